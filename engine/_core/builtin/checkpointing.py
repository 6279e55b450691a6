"""Built-in checkpoint policy: retention (``keep_last``, ``save_top_k``) and the best model."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core.backend import export_as_of
from engine._core.hookspecs import hookimpl
from engine._core.spec.model import resolve_mode
from engine._core.storage_policy import describe, write_failed

if TYPE_CHECKING:
    from engine._core.checkpoint.manifest import CheckpointInfo
    from engine._core.run import Run



class CheckpointPolicy:
    """Deletes checkpoints beyond the retention policy; tracks and exports the best model."""

    def __init__(self, run: Run):
        options = run.spec.checkpoint
        self.options = options
        self.monitor = run.spec.checkpoint_monitor
        self.mode = resolve_mode(options.mode, self.monitor)
        self.best: dict[str, Any] = {}
        #: The best model written at an improvement, relative to the run directory: part of
        #: the checkpointed state, so a resumed run's summary still names it.
        self.best_model: str | None = None

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        if not self.monitor or self.monitor not in metrics:
            return
        value = metrics[self.monitor]
        if not math.isfinite(value):
            return
        previous = self.best.get("value")
        better = previous is None or (value < previous if self.mode == "min" else value > previous)
        if better:
            self.best = {"metric": self.monitor, "value": value, "step": run.step}
            run._best = dict(self.best)
            if run.backend is not None and export_as_of(run.backend) is None:
                # every process: backends write on the main one; one that can export any step
                # writes the best model once, when the run ends (engine._core.execute)
                self._export_best(run)

    def _export_best(self, run: Run) -> None:
        """Write the best model; a failed write follows ``checkpoint.on_error``.

        A best model that could not be replaced is no longer the best: it is removed, and
        neither the summary nor the console names one until an improvement is written.
        """
        assert run.backend is not None
        try:
            exported = run.backend.export(run.dir / "model", "best")
        except Exception as exc:
            stale = run.exports.pop("best", None)
            self.best_model = None
            if stale is not None:
                with contextlib.suppress(OSError):
                    Path(stale).unlink()
            write_failed(run, f"could not write the best model ({self.monitor} {run.best['value']:.6g} at "
                              f"step {run.step}) to {run.dir / 'model'}: {describe(exc)}",
                         "the run has no best model until the next improvement is written")
            return
        if exported is not None:
            self.best_model = _relative(Path(exported), run.dir)
            if run.is_main_process:
                run.exports["best"] = str(exported)

    @hookimpl
    def on_checkpoint(self, run: Run, checkpoint: CheckpointInfo) -> None:
        if run.checkpoints is not None and run.is_main_process:
            try:
                run.checkpoints.retain(keep_last=self.options.keep_last, save_top_k=self.options.save_top_k,
                                       monitor=self.monitor, mode=self.mode)
            except Exception as exc:  # storage unreachable: like a failed save, not a reason to stop
                if self.options.on_error == "fail":
                    raise

                run.warn(f"could not delete old checkpoints in {run.checkpoints.storage.url}: "
                          f"{type(exc).__name__}: {exc}; the next checkpoint tries again")

    @hookimpl
    def on_resume(self, run: Run) -> None:
        run._best = dict(self.best)
        if self.best_model is not None and run.is_main_process:
            exported = run.dir / self.best_model
            if exported.exists():  # written before the resume, still the best one
                run.exports["best"] = str(exported)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_model": self.best_model}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = dict(state["best"])
        self.best_model = state.get("best_model")  # absent in checkpoints of earlier versions


def _relative(path: Path, directory: Path) -> str:
    """``path`` relative to the run directory (a resume may find it elsewhere), else as it is."""
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    return [("run:checkpoint-policy", CheckpointPolicy(run))]
