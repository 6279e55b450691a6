"""``engine runs [DIR]``: the runs in a folder, one line each, read from what they wrote.

A run's line says its status (``summary.json``, else ``running`` while a process holds its
lock, else ``unfinished``), its steps, its best metric and how long ago it last wrote.
Cross-validation parents and ``engine tune`` study directories are listed as such.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
import tomllib
from pathlib import Path
from typing import Any

import attrs

from engine._core.errors import EngineError
from engine._core.lock import held
from engine._core.rundir import METRICS_FILE, SPEC_FILE, SUMMARY_FILE

#: What an ``engine tune`` study directory holds (engine-optuna), without a run's spec.toml.
STUDY_MARKS = ("study.db", "study.journal", "trials.csv", "trials")
FOLD = re.compile(r"fold-[0-9]+")


@attrs.define
class Listed:
    """One line of ``engine runs``."""

    name: str
    kind: str  # "run", "cv" or "study"
    status: str
    steps: str
    best: str
    age: str

    def as_dict(self) -> dict[str, str]:
        return attrs.asdict(self)


def list_runs(folder: Path, now: float | None = None) -> list[Listed]:
    """The runs directly in ``folder`` (or ``folder`` itself when it is one), ordered by name
    and number (``r``, ``r-2``, ``r-10``)."""
    if not folder.is_dir():
        raise EngineError(f"{str(folder)!r} is not a folder of runs", where="engine runs",
                          fix="pass the run.dir your specs use (default: runs)")
    now = time.time() if now is None else now
    if kind_of(folder) is not None:
        entries = [folder]
    else:
        entries = sorted((entry for entry in folder.iterdir() if entry.is_dir() and kind_of(entry)),
                         key=_order)
    return [describe(entry, now) for entry in entries]


def kind_of(directory: Path) -> str | None:
    """``"run"``, ``"cv"`` (a cross-validation parent), ``"study"`` or ``None`` (not a run)."""
    summary = _summary(directory)
    if "folds" in summary or any(FOLD.fullmatch(entry.name) for entry in _children(directory)):
        return "cv"
    if (directory / SPEC_FILE).exists() or summary:
        return "run"
    if any((directory / mark).exists() for mark in STUDY_MARKS):
        return "study"
    return None


def describe(directory: Path, now: float) -> Listed:
    kind = kind_of(directory) or "run"
    summary = _summary(directory)
    name = directory.name
    if kind == "study":
        trials = [entry for entry in _children(directory / "trials") if entry.is_dir()]
        if any(held(trial) for trial in trials):
            status = "running"
        else:
            status = "finished" if (directory / "trials.csv").exists() else "unfinished"
        return Listed(name, kind, status, f"{len(trials)} trials", _study_best(directory) or "-",
                      _age(directory, now))
    recorded = str(summary.get("status", "unfinished")) if summary else None
    status = recorded or ("running" if held(directory) else "unfinished")
    if kind == "cv":
        folds = [entry for entry in _children(directory) if FOLD.fullmatch(entry.name)]
        steps = f"{summary.get('folds', len(folds))} folds"
        return Listed(name, kind, status, steps, _cv_best(summary), _age(directory, now))
    done = summary.get("steps") if summary else _last_record(directory).get("step")
    return Listed(name, kind, status, "-" if done is None else str(done), _best(summary, directory),
                  _age(directory, now))


def format_lines(rows: list[Listed]) -> list[str]:
    """Aligned columns: name, status, steps, best, age; a CV parent or a study says so."""
    table = [("NAME", "STATUS", "STEPS", "BEST", "AGE")]
    for row in rows:
        label = {"cv": f"{row.name} (cv)", "study": f"{row.name} (tune study)"}.get(row.kind, row.name)
        table.append((label, row.status, row.steps, row.best, row.age))
    widths = [max(len(line[column]) for line in table) for column in range(4)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True)), line[4]])
            .rstrip() for line in table]


def _best(summary: dict[str, Any], directory: Path) -> str:
    """``summary.json``'s best, else the monitored (or first ``val/``) metric as last logged."""
    best = summary.get("best")
    if isinstance(best, dict) and best.get("metric") is not None and "value" in best:
        at = f" @{best['step']}" if best.get("step") is not None else ""
        return f"{best['metric']}={_number(best['value'])}{at}"
    metrics = summary.get("metrics") if summary else _last_values(directory)
    if not isinstance(metrics, dict):
        return "-"
    monitored = _monitored(directory)
    name = monitored if monitored in metrics else next((m for m in sorted(metrics) if m.startswith("val/")), None)
    return "-" if name is None else f"{name}={_number(metrics[name])}"


def _cv_best(summary: dict[str, Any]) -> str:
    metrics = summary.get("metrics")
    if not isinstance(metrics, dict):
        return "-"
    name = next((m for m in sorted(metrics) if m.startswith("val/")), None)
    if name is None or not isinstance(metrics[name], dict):
        return "-"
    return f"{name}={_number(metrics[name].get('mean'))}±{_number(metrics[name].get('std'))}"


def _study_best(directory: Path) -> str | None:
    """The best trial's value from the first line of ``best.toml``'s header, where written."""
    with contextlib.suppress(OSError, IndexError):
        header = (directory / "best.toml").read_text(encoding="utf-8").splitlines()[0]
        match = re.search(r"Trial ([0-9]+) of study .*?: (.*)\.$", header)
        if match:
            return f"{match.group(2)} (trial {match.group(1)})"
    return None


def _monitored(directory: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError):
        spec = tomllib.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
        for section in ("checkpoint", "early_stop"):
            monitor = spec.get(section, {}).get("monitor")
            if isinstance(monitor, str):
                return monitor
    return None


def _last_values(directory: Path) -> dict[str, Any]:
    """Each metric's last logged value in ``metrics.jsonl``."""
    values: dict[str, Any] = {}
    for record in _records(directory):
        values.update({k: v for k, v in record.items() if k not in ("step", "epoch", "time")})
    return values


def _last_record(directory: Path) -> dict[str, Any]:
    records = _records(directory)
    return records[-1] if records else {}


def _records(directory: Path) -> list[dict[str, Any]]:
    out = []
    with contextlib.suppress(OSError):
        for line in (directory / METRICS_FILE).read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
    return out


def _summary(directory: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
        if isinstance(summary, dict):
            return summary
    return {}


def _children(directory: Path) -> list[Path]:
    try:
        return list(directory.iterdir())
    except OSError:
        return []


def _age(directory: Path, now: float) -> str:
    """Since the run last wrote its summary or metrics log (or the directory changed)."""
    written = [directory]
    written += [directory / name for name in (SUMMARY_FILE, METRICS_FILE)]
    times = []
    for path in written:
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    seconds = max(0.0, now - max(times, default=now))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def _number(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


def _order(entry: Path) -> tuple[str, int]:
    """``r`` before ``r-2`` before ``r-10``."""
    match = re.fullmatch(r"(.*)-([0-9]+)", entry.name)
    return (match.group(1), int(match.group(2))) if match else (entry.name, 1)
