"""How a run ended (or that it has not): the one vocabulary of summary.json, the status line and
``on_run_end``."""

from __future__ import annotations

import enum


class RunStatus(enum.StrEnum):
    """A run's status. A ``str``, so ``status == "completed"`` and JSON keep working."""

    RUNNING = "running"
    """Training, or set up and about to train."""
    COMPLETED = "completed"
    """Reached its limit (``max_steps``, ``max_epochs``, ``max_time``) or a data end."""
    STOPPED = "stopped"
    """A plugin stopped it (``run.stop(reason)``): early stopping, pruning, a NaN policy."""
    FAILED = "failed"
    """An exception, a non-finite loss under ``nan_policy = "fail"``, a required write that failed."""
    INTERRUPTED = "interrupted"
    """SIGINT or SIGTERM: a checkpoint was written, and ``--resume`` continues exactly."""

    @property
    def finished(self) -> bool:
        """True for an end that ``--resume`` does not continue (completed or stopped)."""
        return self in (RunStatus.COMPLETED, RunStatus.STOPPED)
