"""The one policy for every write of a run that fails: ``checkpoint.on_error``.

Checkpoints, exported models and the run's records (metrics log, summary) all go to storage
that can fill up or disappear for a while. A failed write either fails the run (``fail``)
or becomes one warning saying what is lost and training goes on (``warn``, the default).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core.errors import TrainingError
from engine._core.rundir import write_json

if TYPE_CHECKING:
    from engine._core.run import Run

FIX = 'set checkpoint.on_error = "warn" to keep training instead'


def describe(exc: BaseException) -> str:
    """``ErrorType: message`` on one line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split()) or type(exc).__name__}"


def write_failed(run: Run, message: str, consequence: str) -> None:
    """Apply ``checkpoint.on_error`` to a write that failed.

    ``message`` says what could not be written and why; ``consequence`` what the run does
    without it (shown only when it goes on). Under ``fail`` this raises :class:`TrainingError`.
    """
    if run.spec.checkpoint.on_error == "fail":
        raise TrainingError(message, fix=FIX)

    run.warn(f"{message}; {consequence}")


def write_record(path: Path, document: Any) -> str | None:
    """Write a JSON record of how a run ended (``summary.json``) whole, or return why it could
    not be; then no earlier one is left at ``path``, since it would tell an old story."""
    try:
        write_json(path, document)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return f"could not write {path}: {describe(exc)}"
    return None
