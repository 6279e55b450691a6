"""What only the loop reads and writes: counters, stop bookkeeping, cadence marks, how the run ends.

A :class:`Run` shows the counters, the status and the stop reason read-only; its actions
(``stop``, ``request_checkpoint``) reach this object. The loop and :mod:`engine._core.execute`
change it; :meth:`LoopControl.end` is the one place a status is set.
"""

from __future__ import annotations

import time
from typing import Any

from engine._core.status import RunStatus


class LoopControl:
    """The loop's private state of one run; the ``loop`` participant of every checkpoint."""

    def __init__(self) -> None:
        self.step = 0
        self.epoch = 0
        self.step_in_epoch = 0
        self.metrics: dict[str, float] = {}
        self.status = RunStatus.RUNNING
        self.stop_reason = ""
        self.exit_code = 0
        #: The loop leaves after the current step (a stop, a limit, a signal, a failure).
        self.should_stop = False
        #: The signal number (SIGINT/SIGTERM) that asked the run to stop, or 0.
        self.interrupted = 0
        self.checkpoint_requested = False
        #: Whether the run exports its models at its end (``Run.set_export``, ``Run.stop``).
        self.export = True
        #: True once a stop said the run's models are not wanted (``Run.stop(…, export=False)``).
        self.export_refused = False
        self.last_eval_step = -1
        self.last_checkpoint_step = -1
        #: The step of the checkpoint this process resumed from; ``None`` when it started at 0.
        self.resumed_from: int | None = None
        self.started = time.monotonic()
        #: Training time before this process (restored on resume), for ``max_time``.
        self.elapsed_before = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds of training, including time before a resume."""
        return self.elapsed_before + time.monotonic() - self.started

    def end(self, status: RunStatus, reason: str | None = None, *, exit_code: int | None = None) -> None:
        """Set how the run ends and stop the loop after the current step: the one place a
        status is set. ``reason`` (when given) replaces the stop reason; ``exit_code`` (when
        given) the exit status."""
        self.status = RunStatus(status)
        self.should_stop = True
        if reason is not None:
            self.stop_reason = reason
        if exit_code is not None:
            self.exit_code = exit_code

    def stop(self, reason: str) -> None:
        """A stop asked for (``Run.stop``): the first reason wins; a running run is ``stopped``."""
        if not self.should_stop:
            self.end(RunStatus.STOPPED if self.status is RunStatus.RUNNING else self.status, reason)

    # ------------------------------------------------------------------ checkpoint state

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "metrics": self.metrics,
            "elapsed": self.elapsed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.metrics = {k: float(v) for k, v in state["metrics"].items()}
        self.elapsed_before = float(state["elapsed"])
        self.started = time.monotonic()
