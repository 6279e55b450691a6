"""The :class:`Run`: the state every event sees and the actions a plugin may take."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core.redact import redact_text

if TYPE_CHECKING:
    from engine._core.backend import Backend
    from engine._core.checkpoint.manager import CheckpointManager
    from engine._core.plugins import Plugins
    from engine._core.spec.model import Spec


class Run:
    """One training run.

    State: ``step`` (steps done), ``epoch`` (zero-based, current), ``step_in_epoch``,
    ``metrics`` (latest value of every metric logged), ``spec``, ``dir``.
    Actions: :meth:`log`, :meth:`stop`, :meth:`request_checkpoint`.
    """

    def __init__(self, spec: Spec, plugins: Plugins, directory: Path, *,
                 fold: tuple[int, int] | None = None, console: str = "auto",
                 shared: dict[str, Any] | None = None):
        self.spec = spec
        self.plugins = plugins
        self.hook = plugins.hook
        self.dir = directory
        #: ``(index, count)`` when this run is one fold of a cross-validation.
        self.fold = fold
        #: "auto" (a bar on a terminal, lines otherwise), "plain" or "quiet".
        self.console = console
        #: Objects shared by the runs of one session in this process: the folds of a
        #: cross-validation, the trials a tuning worker runs. A backend may keep what it loaded
        #: here (its data), keyed by everything it depends on, instead of loading it again for
        #: every run. Empty, and private to the run, otherwise.
        self.shared: dict[str, Any] = shared if shared is not None else {}
        self.seed = spec.run.seed
        #: True when this process continues a run from a checkpoint (``--resume``).
        self.resuming = False
        #: The step of the checkpoint this process resumed from, or ``None``.
        self.resumed_from: int | None = None
        self.step = 0
        self.epoch = 0
        self.step_in_epoch = 0
        self.metrics: dict[str, float] = {}
        self.status = "running"
        self.stop_reason = ""
        self.exit_code = 0
        self.should_stop = False
        #: The signal number (SIGINT/SIGTERM) that asked the run to stop, or 0.
        self.interrupted = 0
        self.last_eval_step = -1
        self.last_checkpoint_step = -1
        self.checkpoint_requested = False
        self.components: dict[str, Any] = {}
        self.backend: Backend | None = None
        self.checkpoints: CheckpointManager | None = None
        self.exports: dict[str, str] = {}
        self.warnings: list[str] = []
        #: The monitored metric's best value so far: ``{"metric", "value", "step"}``.
        self.best: dict[str, Any] = {}
        #: This process's rank and the number of processes, from torchrun's environment
        #: (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); 0, 1, 0 for a single process.
        self.rank, self.world_size, self.local_rank = process_ranks()
        #: False on every rank but 0: only the main process writes the run directory's records,
        #: metrics, summary, exports and (unless a strategy shards them) checkpoints.
        self.is_main_process = self.rank == 0
        #: Set by a strategy whose checkpoints are collective: every process calls
        #: ``state_dict()`` at a save (the main process alone writes what they return).
        self.collective_checkpoints = False
        #: Set by a strategy for runs of several processes: combines per-process flags
        #: (element-wise maximum over every process) so all take the same decisions.
        self.sync_flags: Callable[[list[int]], list[int]] | None = None
        #: With ``sync_flags``: at most this many steps between two agreements (0: only at
        #: the loop's cadence boundaries and epoch ends).
        self.sync_every = 0
        self.started = time.monotonic()
        #: Training time before this process (restored on resume), for ``max_time``.
        self.elapsed_before = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds of training, including time before a resume."""
        return self.elapsed_before + time.monotonic() - self.started

    @property
    def steps_per_epoch(self) -> int:
        assert self.backend is not None
        return self.backend.steps_per_epoch

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record metrics at ``step`` (default: the current step) and send them to trackers."""
        clean = {name: float(value) for name, value in metrics.items()}
        self.metrics.update(clean)
        self.hook.on_log(run=self, metrics=clean, step=self.step if step is None else step)

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current step (with status ``stopped``)."""
        if not self.should_stop:
            self.should_stop = True
            self.stop_reason = reason
            if self.status == "running":
                self.status = "stopped"

    @property
    def step_limit(self) -> float:
        """How many steps this run takes at most: the smaller of ``loop.max_steps`` and
        ``loop.max_epochs`` × :attr:`steps_per_epoch`; ``inf`` with neither (``max_time`` only)."""
        loop = self.spec.loop
        limit = math.inf
        if loop.max_steps is not None:
            limit = loop.max_steps
        if loop.max_epochs is not None:
            limit = min(limit, loop.max_epochs * self.steps_per_epoch)
        return limit

    def warn(self, message: str) -> None:
        """Print a warning on stderr (above the progress bar, if any), with secrets hidden, and
        keep it for summary.json's ``warnings``."""
        message = redact_text(message)
        self.warnings.append(message)
        print(f"engine: warning: {message}", file=sys.stderr, flush=True)

    def request_checkpoint(self) -> None:
        """Ask for a checkpoint at the end of the current step."""
        self.checkpoint_requested = True

    # ------------------------------------------------------------------ state

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

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` records."""
        return {
            "name": self.spec.run.name,
            "status": self.status,
            "reason": self.stop_reason,
            "exit_code": self.exit_code,
            "steps": self.step,
            "epochs": self.epoch,
            "seconds": round(self.elapsed, 3),
            "metrics": {k: _json_float(v) for k, v in sorted(self.metrics.items())},
            "best": dict(self.best),
            "model": dict(self.exports),
            "fold": list(self.fold) if self.fold else None,
        }


def process_ranks() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the launcher's environment (torchrun sets them)."""
    def read(name: str, default: int) -> int:
        try:
            return int(os.environ.get(name, default))
        except ValueError:
            return default
    return read("RANK", 0), max(read("WORLD_SIZE", 1), 1), read("LOCAL_RANK", 0)


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)
