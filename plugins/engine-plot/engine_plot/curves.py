"""Learning curves read from runs' ``metrics.jsonl``: plain data, no plotting library."""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path

import attrs

from engine import EngineError, RunFiles
from engine.session import run_directories

_NOT_METRICS = frozenset({"step", "epoch", "time"})


@attrs.frozen
class Run:
    """One run's curves: ``metric -> [(step, value), ...]`` in logged order."""

    label: str
    curves: dict[str, list[tuple[int, float]]]


def read_run(directory: str, label: str) -> Run:
    path = Path(directory) / RunFiles.METRICS
    if not path.is_file():
        raise EngineError(f"{directory}: no {RunFiles.METRICS} here", fix="pass a run directory (runs/<name>)")
    curves: dict[str, list[tuple[int, float]]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            step = int(record["step"])
        except (ValueError, KeyError, TypeError):
            raise EngineError(f"{path}:{number}: not a metrics record", fix="is this an engine run directory?") \
                from None
        for name, value in record.items():
            if name not in _NOT_METRICS:
                curves.setdefault(name, []).append((step, _number(value)))
    return Run(label, curves)


def read_runs(directories: list[str]) -> list[Run]:
    """Every run (each fold or trial of a cross-validation or study folder), labelled by its
    folder name (by its path where two names clash)."""
    paths: list[str] = []
    for directory in directories:
        held = run_directories(Path(directory))
        if not held:
            raise EngineError(f"{directory}: no {RunFiles.METRICS} here, nor runs in fold-<k>/ or trials/<n>/",
                              fix="pass a run directory (runs/<name>), a cross-validation's or a study's")
        paths += [directory if run == Path(directory) else str(run) for run in held]
    names = [_name(Path(d)) for d in paths]
    labels = [d if names.count(n) > 1 else n for d, n in zip(paths, names, strict=True)]
    return [read_run(d, label) for d, label in zip(paths, labels, strict=True)]


def _name(directory: Path) -> str:
    """A run's label: its folder's name; a fold's or trial's with the folder above it
    (``cvr/fold-0``, ``trial 3``)."""
    directory = directory.resolve()
    if directory.parent.name == "trials":
        return f"trial {directory.name}"
    if directory.name.startswith("fold-") and directory.parent.parent.name == "trials":
        return f"trial {directory.parent.name} {directory.name}"
    if directory.name.startswith("fold-"):
        return f"{directory.parent.name}/{directory.name}"
    return directory.name


def choose_metrics(runs: list[Run], wanted: list[str]) -> list[str]:
    """The metrics to plot: ``wanted`` (each logged by some run), or all, training ones first."""
    logged = sorted({name for run in runs for name in run.curves}, key=_order)
    for name in wanted:
        if name not in logged:
            close = difflib.get_close_matches(name, logged, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise EngineError(f"--metric {name!r} was not logged by any of these runs",
                              fix=f"{hint}logged: {', '.join(logged) or 'none'}")
    if not logged:
        raise EngineError("these runs logged no metrics yet", fix="plot after a few log steps")
    return list(dict.fromkeys(wanted)) or logged


def _order(name: str) -> tuple[int, str]:
    group = {"train": 0, "val": 1}.get(name.split("/", 1)[0], 2 if name == "lr" else 3)
    return group, name


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value))  # "nan", "inf" as metrics.jsonl writes non-finite values
    except ValueError:
        return math.nan
