"""The :class:`Run`: the view of a run every event sees, and the actions a plugin may take."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core import elastic
from engine._core.collective import Processes
from engine._core.loop_state import LoopControl
from engine._core.redact import redact_text
from engine._core.status import RunStatus

#: The key of :attr:`Run.shared` that ``stop(…, folds=True)`` sets: the cross-validation starts
#: no further fold (:mod:`engine._core.cv`).
STOP_FOLDS = "engine.cv.stop_folds"

if TYPE_CHECKING:
    import pluggy

    from engine._core.backend import Backend
    from engine._core.checkpoint.manager import CheckpointManager
    from engine._core.plugins import Plugins
    from engine._core.spec.model import Spec


class Run:
    """One training run, as plugins see it.

    Every event receives it. Its state is read-only: the loop alone moves the counters and
    sets the status (assigning ``run.step`` or ``run.status`` raises :class:`AttributeError`).
    A plugin acts through :meth:`log`, :meth:`stop`, :meth:`request_checkpoint` and
    :meth:`warn`. Containers it exposes (``metrics``, ``shared``, ...) are the run's own
    objects: only :attr:`shared` is meant to be changed by plugins.
    """

    __slots__ = ("_backend", "_best", "_checkpoints", "_components", "_console", "_dir", "_disabled_trackers",
                 "_exports", "_fold", "_loop", "_plugins", "_processes", "_resuming", "_shared", "_spec", "_warnings")

    def __init__(self, spec: Spec, plugins: Plugins, directory: Path, *,
                 fold: tuple[int, int] | None = None, console: str = "auto",
                 shared: dict[str, Any] | None = None):
        self._spec = spec
        self._plugins = plugins
        self._dir = directory
        self._fold = fold
        self._console = console
        self._shared: dict[str, Any] = shared if shared is not None else {}
        self._resuming = False
        self._components: dict[str, Any] = {}
        self._backend: Backend | None = None
        self._checkpoints: CheckpointManager | None = None
        self._exports: dict[str, str] = {}
        self._warnings: list[str] = []
        #: tracker label -> "disabled (why)", set by the core's tracker guard (engine._core.tracking)
        self._disabled_trackers: dict[str, str] = {}
        self._best: dict[str, Any] = {}
        self._processes = Processes.from_environment()
        #: The loop's private state (engine._core.loop_state); the core alone touches it.
        self._loop = LoopControl()

    # ------------------------------------------------------------------ what the run is

    @property
    def spec(self) -> Spec:
        """The run's spec, structured (``run.spec.loop.max_steps``, ``run.spec.run.name``)."""
        return self._spec

    @property
    def dir(self) -> Path:
        """The run directory: ``spec.toml``, ``env.json``, ``metrics.jsonl``, ``summary.json``,
        ``model/``, tracker output. Only the main process writes it."""
        return self._dir

    @property
    def seed(self) -> int:
        """``run.seed`` of the spec: the seed of every random choice of the run."""
        return self._spec.run.seed

    @property
    def fold(self) -> tuple[int, int] | None:
        """``(index, count)`` when this run is one fold of a cross-validation, else ``None``."""
        return self._fold

    @property
    def shared(self) -> dict[str, Any]:
        """Objects shared by the runs of one session in this process: the folds of a
        cross-validation, the trials a tuning worker runs. A backend may keep what it loaded
        here (its data), keyed by everything it depends on, instead of loading it again for
        every run. Empty, and private to the run, otherwise. The one container plugins change."""
        return self._shared

    @property
    def resuming(self) -> bool:
        """True when this process continues a run from a checkpoint (``--resume`` found one);
        set before ``on_run_start``. ``on_resume`` follows once the state is restored."""
        return self._resuming

    @property
    def resumed_from(self) -> int | None:
        """The step of the checkpoint this process resumed from (set before ``on_resume``);
        ``None`` when it started at step 0."""
        return self._loop.resumed_from

    @property
    def console(self) -> str:
        """How the run reports on stderr: ``"auto"`` (a bar on a terminal), ``"plain"``, ``"quiet"``."""
        return self._console

    # ------------------------------------------------------------------ progress

    @property
    def step(self) -> int:
        """Steps done (optimizer steps, boosting rounds); 0 before the first."""
        return self._loop.step

    @property
    def epoch(self) -> int:
        """The current epoch, zero-based (the number of epochs done)."""
        return self._loop.epoch

    @property
    def step_in_epoch(self) -> int:
        """Steps done in the current epoch."""
        return self._loop.step_in_epoch

    @property
    def steps_per_epoch(self) -> int:
        """The backend's steps in one epoch."""
        assert self._backend is not None
        return self._backend.steps_per_epoch

    @property
    def step_limit(self) -> float:
        """How many steps this run takes at most: the smaller of ``loop.max_steps`` and
        ``loop.max_epochs`` × :attr:`steps_per_epoch`; ``inf`` with neither (``max_time`` only)."""
        loop = self._spec.loop
        limit = math.inf
        if loop.max_steps is not None:
            limit = loop.max_steps
        if loop.max_epochs is not None:
            limit = min(limit, loop.max_epochs * self.steps_per_epoch)
        return limit

    @property
    def elapsed(self) -> float:
        """Seconds of training, including the time before a resume (what ``max_time`` counts)."""
        return self._loop.elapsed

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of every metric logged (``train/…``, ``val/…``); restored on resume."""
        return self._loop.metrics

    @property
    def best(self) -> dict[str, Any]:
        """The monitored metric's best value so far: ``{"metric", "value", "step"}``; empty
        before the first evaluation or without a monitored metric."""
        return self._best

    # ------------------------------------------------------------------ how it ends

    @property
    def status(self) -> RunStatus:
        """:class:`RunStatus`: ``RUNNING`` until the loop decides how the run ends."""
        return self._loop.status

    @property
    def stop_reason(self) -> str:
        """Why the run stopped, ended or failed (``""`` while it runs on)."""
        return self._loop.stop_reason

    @property
    def should_stop(self) -> bool:
        """True once the run is stopping (a stop, a limit, a signal or a failure): the current
        step is its last."""
        return self._loop.should_stop

    @property
    def warnings(self) -> list[str]:
        """The warnings printed so far (:meth:`warn`), secrets hidden."""
        return self._warnings

    # ------------------------------------------------------------------ processes

    @property
    def processes(self) -> Processes:
        """This process's place among the run's processes (from the strategy, else the
        launcher's environment), and the collectives the loop uses."""
        return self._processes

    @property
    def rank(self) -> int:
        """This process's rank; 0 for a single process."""
        return self._processes.rank

    @property
    def world_size(self) -> int:
        """The number of processes training the run; 1 for a single process."""
        return self._processes.world_size

    @property
    def local_rank(self) -> int:
        """This process's index on its machine; 0 for a single process."""
        return self._processes.local_rank

    @property
    def is_main_process(self) -> bool:
        """False on every rank but 0: only the main process writes the run directory's records,
        metrics, summary, exports and (unless a strategy shards them) checkpoints."""
        return self._processes.is_main

    # ------------------------------------------------------------------ what the run is made of

    @property
    def components(self) -> dict[str, Any]:
        """The components the spec selected, built, by kind (``"backend"``, ``"strategy"``,
        ``"precision"``, ``"scheduler"``, ``"tracker"`` (a list), ...)."""
        return self._components

    @property
    def backend(self) -> Backend | None:
        """The backend component (``components["backend"]``), set up before any event."""
        return self._backend

    @property
    def checkpoints(self) -> CheckpointManager | None:
        """The run's checkpoint manager; ``checkpoints.storage`` is the checkpoint storage."""
        return self._checkpoints

    @property
    def exports(self) -> dict[str, str]:
        """The models written so far, by tag (``"final"``, ``"best"``): their paths."""
        return self._exports

    @property
    def plugins(self) -> Plugins:
        """The plugin manager the run's events go through (for the core)."""
        return self._plugins

    @property
    def hook(self) -> pluggy.HookRelay:
        """The run's hook relay (for the core: plugins receive events, they do not send them)."""
        return self._plugins.hook

    # ------------------------------------------------------------------ actions

    def log(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record metrics at ``step`` (default: the current step) and send them to trackers."""
        clean = {name: float(value) for name, value in metrics.items()}
        self._loop.metrics.update(clean)
        self._plugins.hook.on_log(run=self, metrics=clean, step=self._loop.step if step is None else step)

    def stop(self, reason: str, *, folds: bool = False, export: bool = True) -> None:
        """Ask the loop to stop after the current step, with status ``stopped`` (the first
        reason asked for is kept). ``folds=True``: when this run is a fold of a
        cross-validation, no later fold starts either (a tuner pruning the trial).
        ``export=False``: nobody will want this run's models (a pruned trial), so none is
        exported at its end, nor is its test split evaluated."""
        self._loop.stop(reason)
        if not export:
            self._loop.export = False
            self._loop.export_refused = True
        if folds and self.fold is not None:
            self.shared.setdefault(STOP_FOLDS, reason)

    def set_export(self, export: bool) -> None:
        """Whether the run exports its models when it ends, and so evaluates its test split
        (it does unless told otherwise); the last call before the end counts. A tuner turns
        it off for a trial that does not beat the trials before it, on again if a later
        evaluation does. A best model written during the run (by a backend that cannot write
        it later) stays. After ``stop(export=False)`` the run exports nothing whatever this says."""
        self._loop.export = bool(export) and not self._loop.export_refused

    def request_checkpoint(self) -> None:
        """Ask for a checkpoint at the end of the current step."""
        self._loop.checkpoint_requested = True

    def warn(self, message: str) -> None:
        """Print a warning on stderr (above the progress bar, if any), with secrets hidden, and
        keep it in :attr:`warnings`."""
        message = redact_text(message)
        self._warnings.append(message)
        print(f"engine: warning: {message}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ records

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` records."""
        loop = self._loop
        return {
            "name": self._spec.run.name,
            "status": loop.status,
            "reason": loop.stop_reason,
            "exit_code": loop.exit_code,
            "steps": loop.step,
            "epochs": loop.epoch,
            "seconds": round(loop.elapsed, 3),
            "metrics": {k: _json_float(v) for k, v in sorted(loop.metrics.items())},
            "best": dict(self._best),
            "model": dict(self._exports),
            "fold": list(self._fold) if self._fold else None,
            # only when the tracker guard disabled one (engine._core.tracking)
            **({"tracking": dict(self._disabled_trackers)} if self._disabled_trackers else {}),
            # only in a group torchrun restarted (--max-restarts): how often, and why
            **({"restarts": restarts} if (restarts := elastic.restarts()) else {}),
        }


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)
