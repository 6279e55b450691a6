"""Training and validation tables for a run: read, prepare, then hold out or fold."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
import numpy as np

from engine import EngineError
from engine_tabular import split
from engine_tabular.options import TabularDataOptions
from engine_tabular.sources import read_source
from engine_tabular.table import Table, prepare

if TYPE_CHECKING:
    from engine import Run

T = TypeVar("T")


@attrs.frozen
class Splits:
    """What a backend trains and evaluates on."""

    train: Table
    valid: Table
    #: How the validation rows were chosen: "given", "holdout" or "fold k/K".
    origin: str
    #: The held-out test rows (``backend.data.test``), whole under ``[cv]``; None without them.
    test: Table | None = None


#: How many splits a session keeps (``run.shared``): a [cv]'s folds, a study's trials.
KEPT_SPLITS = 16


def load_splits(options: TabularDataOptions, run: Run, *, classification: bool) -> Splits:
    """Read ``options.train`` (and ``valid``), honouring ``run.fold`` for cross-validation.

    A classifier's training rows must hold at least two classes. The splits are made once per
    session for each data options, fold and seed: a tuning worker's trials train on the same
    rows (the tables are never changed afterwards).
    """
    stratified = run.spec.cv is None or run.spec.cv.stratified

    def make() -> Splits:
        splits = attrs.evolve(_split(options, run, classification=classification), test=_prepared(options, run)[2])
        if classification:
            _two_classes(splits, options.label)
        return splits

    return session_cached(run, "engine-tabular:splits", (repr(options), run.fold, run.seed, stratified, classification),
                          make, KEPT_SPLITS)


def session_cached(run: Run, name: str, key: Hashable, make: Callable[[], T], limit: int) -> T:
    """``make()`` once per ``key`` for the runs of one session (the folds of a [cv], a tuning
    worker's trials), kept in ``run.shared[name]``; past ``limit`` entries the oldest goes.
    What it returns is shared: neither the runs nor the library may change it."""
    kept: dict[Hashable, Any] = run.shared.setdefault(name, {})
    if key in kept:
        return cast(T, kept[key])
    value = make()
    if len(kept) >= limit:
        del kept[next(iter(kept))]  # the oldest
    kept[key] = value
    return value


def _two_classes(splits: Splits, label: str) -> None:
    classes = np.unique(splits.train.label)
    if len(classes) >= 2:
        return
    names = splits.train.classes
    only = names[int(classes[0])] if names and len(classes) else (classes[0].item() if len(classes) else None)
    part = "" if splits.origin in ("given", "holdout") else f" of {splits.origin}"
    raise EngineError(f"the training rows{part} hold one class of label {label!r} ({only!r}); "
                      "a classifier needs at least two", where="backend.data.label",
                      fix="check backend.data.label and the data, or choose a regression objective")


def _split(options: TabularDataOptions, run: Run, *, classification: bool) -> Splits:
    if not 0.0 < options.val_fraction < 1.0:
        raise EngineError(f"val_fraction must be between 0 and 1, got {options.val_fraction}",
                          where="backend.data.val_fraction", fix="use e.g. 0.2")
    train, valid, _ = _prepared(options, run)
    labels = train.label if classification and train.group is None else None

    if run.fold is not None:
        index, folds = run.fold
        stratified = run.spec.cv is None or run.spec.cv.stratified  # as the key of load_splits
        if len(train) < folds:
            raise EngineError(f"{len(train)} rows cannot make {folds} folds", where="cv.folds",
                              fix="use fewer folds or more data")
        train_rows, val_rows = split.fold(len(train), folds, index, run.seed,
                                          labels=labels if stratified else None, groups=train.group)
        return Splits(train.take(train_rows), train.take(val_rows), f"fold {index + 1}/{folds}")

    if valid is not None:
        return Splits(train, valid, "given")

    train_rows, val_rows = split.holdout(len(train), options.val_fraction, run.seed,
                                         labels=labels, groups=train.group)
    if len(val_rows) == 0:
        raise EngineError(f"the validation set is empty: {options.val_fraction} of {len(train)} rows is no row",
                          where="backend.data.val_fraction", fix="raise val_fraction or give backend.data.valid")
    if len(train_rows) == 0:
        raise EngineError("no training rows are left after the validation hold-out",
                          where="backend.data.val_fraction", fix="lower val_fraction")
    return Splits(train.take(train_rows), train.take(val_rows), "holdout")


def _prepared(options: TabularDataOptions, run: Run) -> tuple[Table, Table | None, Table | None]:
    """The prepared training table and, when given, the validation and test tables.

    Read once per session: the folds of a cross-validation and the trials of a tuning worker
    with the same data options share them through ``run.shared`` (the tables are never
    changed afterwards; splits take copies of their rows).
    """
    key = f"engine-tabular:{options!r}"
    if key not in run.shared:
        frames = read_source(options.train, options, "backend.data.train")
        if options.valid:
            frames["valid"] = read_source(options.valid, options, "backend.data.valid")["train"]
        if options.test:
            frames["test"] = read_source(options.test, options, "backend.data.test")["train"]
        for name, frame in frames.items():
            what = {"train": "training data", "valid": "validation data"}.get(name, "test data")
            _nonempty(len(frame), what, f"backend.data.{name}")
        train = prepare(frames["train"], options, source=_name(options.train, "training data"))
        valid = None
        if "valid" in frames:
            source = _name(options.valid or options.train, "validation data")
            valid = prepare(frames["valid"], options, source=source, like=train)
        test = None
        if "test" in frames:
            test = prepare(frames["test"], options, source=_name(options.test or options.train, "test data"),
                           like=train, where="backend.data.test")
        run.shared[key] = (train, valid, test)
    prepared: tuple[Table, Table | None, Table | None] = run.shared[key]
    return prepared


def _name(source: str, what: str) -> str:
    return f"{what} {source!r}"


def _nonempty(rows: int, what: str, where: str) -> None:
    if rows == 0:
        raise EngineError(f"the {what} has no rows", where=where, fix="point to a file with at least one data row")
