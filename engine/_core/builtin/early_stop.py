"""Built-in early stopping: ``[early_stop] monitor, mode, patience, min_delta``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from engine._core.hookspecs import hookimpl
from engine._core.spec.model import EarlyStopOptions, resolve_mode

if TYPE_CHECKING:
    from engine._core.run import Run



class EarlyStopping:
    """Stops the run when the monitored metric has not improved for ``patience`` evaluations."""

    def __init__(self, options: EarlyStopOptions):
        self.options = options
        self.mode = resolve_mode(options.mode, options.monitor)
        self.best: float | None = None
        self.bad_evals = 0

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        monitor = self.options.monitor
        if monitor not in metrics:
            available = ", ".join(sorted(metrics)) or "none"
            run.stop(f"early_stop.monitor {monitor!r} is not among the evaluation metrics ({available})")
            return
        value = metrics[monitor]
        delta = self.options.min_delta
        if self.best is None:
            improved = math.isfinite(value)
        elif self.mode == "min":
            improved = value < self.best - delta
        else:
            improved = value > self.best + delta
        if improved:
            self.best, self.bad_evals = value, 0
            return
        self.bad_evals += 1
        self._stop_if_exhausted(run)

    @hookimpl
    def on_resume(self, run: Run) -> None:
        # resumed from the checkpoint of the step where it stopped the run (the process ended
        # before it could say so): the run ends there again instead of training on
        self._stop_if_exhausted(run)

    def _stop_if_exhausted(self, run: Run) -> None:
        if self.bad_evals >= self.options.patience:
            run.stop(f"early stopping: {self.options.monitor} did not improve for {self.bad_evals} evaluations "
                     f"(best {'none finite' if self.best is None else format(self.best, '.6g')})")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_evals": self.bad_evals}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self.bad_evals = int(state["bad_evals"])


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    options = run.spec.early_stop
    return [("run:early-stop", EarlyStopping(options))] if options is not None else []
