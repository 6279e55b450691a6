"""Learning curves read from runs' ``metrics.jsonl``: plain data, no plotting library."""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path

import attrs

from engine import EngineError, RunFiles

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
    """Every run, labelled by its folder name (by its path where two names clash)."""
    names = [Path(d).resolve().name for d in directories]
    labels = [d if names.count(n) > 1 else n for d, n in zip(directories, names, strict=True)]
    return [read_run(d, label) for d, label in zip(directories, labels, strict=True)]


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
