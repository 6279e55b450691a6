"""Cross-validation through the core: k seeded folds, one run per fold, mean ± std."""

from __future__ import annotations

import math
import random
import shutil
import statistics
import sys
from collections import defaultdict
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core import rundir
from engine._core.collective import Processes
from engine._core.errors import EXIT_FAILED, TrainingError
from engine._core.lock import LOCK_FILE, RunDirectoryLock
from engine._core.restart import print_notice, unwritable
from engine._core.run import STOP_FOLDS
from engine._core.status import RunStatus
from engine._core.storage_policy import FIX, write_record

if TYPE_CHECKING:
    from engine._core.execute import RunResult
    from engine._core.plugins import Plugins
    from engine._core.spec.model import Spec


def fold_indices(n: int, folds: int, fold: int, seed: int,
                 labels: Sequence[Hashable] | None = None) -> tuple[list[int], list[int]]:
    """Train and validation row indices of ``fold`` (0-based) out of ``folds``.

    Rows are shuffled with ``seed``; with ``labels`` every class is spread evenly over the
    folds (stratified). The same arguments always give the same split.
    """
    if not 0 <= fold < folds or folds < 2 or n < folds:
        raise ValueError(f"cannot make fold {fold} of {folds} from {n} rows")
    rng = random.Random(seed)
    assignment = [0] * n
    if labels is None:
        order = list(range(n))
        rng.shuffle(order)
        for position, row in enumerate(order):
            assignment[row] = position % folds
    else:
        by_class: dict[Hashable, list[int]] = defaultdict(list)
        for row, label in enumerate(labels):
            by_class[label].append(row)
        offset = 0
        for label in sorted(by_class, key=repr):
            rows = by_class[label]
            rng.shuffle(rows)
            for position, row in enumerate(rows):
                assignment[row] = (position + offset) % folds
            offset += len(rows)
    val = [row for row in range(n) if assignment[row] == fold]
    train = [row for row in range(n) if assignment[row] != fold]
    return train, val


def execute_cv(spec: Spec, plugins: Plugins, *, resume: bool = False,
               run_dir: str | Path | None = None, console: str = "auto",
               allow_changes: bool = False, shared: dict[str, Any] | None = None) -> RunResult:
    """Run every fold in ``<run dir>/fold-<k>`` and summarise them in ``<run dir>/summary.json``.

    With ``resume``, finished folds are kept, the interrupted one resumes from its newest
    checkpoint (or starts, with none) and the rest start: one command for every attempt.
    """
    assert spec.cv is not None
    directory, claimed = rundir.resolve(spec, run_dir, resume=resume)  # as one run's directory
    folds = spec.cv.folds
    created = claimed is not None or not directory.exists()
    rundir.prepare(directory, resume=resume)
    try:
        lock = RunDirectoryLock.acquire(directory, _warn, print_notice)  # one process per cross-validation
    except OSError as exc:  # a full disk, a read-only mount
        if created:
            shutil.rmtree(directory, ignore_errors=True)
            if claimed is not None:
                claimed.discard()
        raise unwritable(directory, exc) from None
    try:
        return _run_folds(spec, plugins, directory, folds, resume=resume, console=console,
                          allow_changes=allow_changes, shared={} if shared is None else shared)
    finally:
        lock.release()
        if created and {entry.name for entry in directory.iterdir()} <= {LOCK_FILE}:
            shutil.rmtree(directory, ignore_errors=True)  # no fold started: nothing left behind
            if claimed is not None:
                claimed.discard()


def _run_folds(spec: Spec, plugins: Plugins, directory: Path, folds: int, *, resume: bool,
               console: str, allow_changes: bool, shared: dict[str, Any]) -> RunResult:
    from engine._core.execute import RunResult, execute

    results = []
    shared.pop(STOP_FOLDS, None)
    stopped: str | None = None
    for fold in range(folds):
        fold_dir = directory / f"fold-{fold}"
        if resume and (fold_dir / rundir.SUMMARY_FILE).exists():
            done = _read_summary(fold_dir)
            if done.get("status") in (RunStatus.COMPLETED, RunStatus.STOPPED):
                results.append(RunResult(RunStatus(done["status"]), 0, fold_dir, done))
                continue
        result = execute(spec, plugins, resume=resume, run_dir=fold_dir, console=console,
                         fold=(fold, folds), shared=shared, allow_changes=allow_changes)  # data loaded once
        results.append(result)
        stopped = shared.pop(STOP_FOLDS, None)
        if result.exit_code != 0 or stopped is not None:
            break
    summary = summarise(spec, results, stopped=stopped)
    worst = max(results, key=lambda r: r.exit_code)
    exit_code, error = worst.exit_code, worst.error
    message = write_record(directory / rundir.SUMMARY_FILE, summary)
    if message is not None:  # the storage policy, as for one run's summary
        _warn(f"{message}; each fold's own summary.json is in its fold-<k> folder")
        if spec.checkpoint.on_error == "fail" and exit_code == 0:
            summary["status"], exit_code, error = RunStatus.FAILED, EXIT_FAILED, TrainingError(message, fix=FIX)
    if Processes.from_environment().is_main:  # one table for several processes, as one run's
        from engine._core.builtin.console import print_cv_summary

        print_cv_summary(summary, directory, console)
    return RunResult(summary["status"], exit_code, directory, summary, error)


def _warn(message: str) -> None:
    print(f"engine: warning: {message}", file=sys.stderr, flush=True)


def summarise(spec: Spec, results: Sequence[RunResult], *, stopped: str | None = None) -> dict[str, Any]:
    """Mean and standard deviation of every final metric across folds; ``stopped``: why a
    plugin ended the cross-validation before its last fold (:data:`STOP_FOLDS`)."""
    values: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for name, value in result.summary.get("metrics", {}).items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                values[name].append(float(value))
    status = RunStatus.FAILED
    if all(r.exit_code == 0 for r in results):
        if stopped is not None:
            status = RunStatus.STOPPED
        elif len(results) == (spec.cv.folds if spec.cv else 0):
            status = RunStatus.COMPLETED
    return {
        "name": spec.run.name,
        "status": status,
        **({"reason": stopped} if status is RunStatus.STOPPED else {}),
        "folds": len(results),
        "metrics": {
            name: {"mean": statistics.fmean(v), "std": statistics.pstdev(v) if len(v) > 1 else 0.0,
                   "values": v}
            for name, v in sorted(values.items())
        },
        "fold_dirs": [str(r.dir) for r in results],
    }


def _read_summary(directory: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((directory / rundir.SUMMARY_FILE).read_text()))
