"""Reduce-on-plateau: the one schedule with state, driven by evaluations.

Its state (the current reduction, the best value and the counters) goes into every
checkpoint through ``state_dict``, so a resumed run continues the exact curve.
"""

from __future__ import annotations

import math
from typing import Any

from engine import EngineError, Run, hookimpl, resolve_mode
from engine_schedulers.options import PlateauOptions
from engine_schedulers.schedules import Schedule

_EPSILON = 1e-12


class ReduceOnPlateau(Schedule):
    """Multiplies the lr by ``gamma`` after more than ``patience`` evaluations without improvement
    (PyTorch's ``ReduceLROnPlateau`` rules), never below ``min_factor``."""

    options: PlateauOptions

    def __init__(self, options: PlateauOptions):
        super().__init__(options)
        self.mode = resolve_mode(options.mode, options.monitor)
        self.reduction = 1.0
        self.best: float | None = None
        self.bad_evals = 0
        self.cooldown_left = 0

    def shape(self, t: int) -> float:
        return self.reduction

    def monitored_metrics(self) -> dict[str, str]:
        """The metric it watches, checked against the backend's before the run starts
        (:mod:`engine._core.preflight`)."""
        return {"scheduler.monitor": self.options.monitor}

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        o = self.options
        if o.monitor not in metrics:
            available = ", ".join(sorted(metrics)) or "none"
            raise EngineError(f"scheduler.monitor {o.monitor!r} is not among the evaluation metrics ({available})",
                              fix="set scheduler.monitor to one of them")
        value = metrics[o.monitor]
        if self._improves(value):
            self.best, self.bad_evals = value, 0
        else:
            self.bad_evals += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_evals = 0
        if self.bad_evals > o.patience:
            reduced = max(self.reduction * o.gamma, o.min_factor)
            if self.reduction - reduced > _EPSILON:
                self.reduction = reduced
            self.cooldown_left = o.cooldown
            self.bad_evals = 0

    def _improves(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        best = self.best
        if best is None:
            return True
        o = self.options
        sign = 1.0 if self.mode == "max" else -1.0
        margin = abs(best) * o.threshold if o.threshold_mode == "rel" else o.threshold
        return sign * (value - best) > margin

    def state_dict(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "best": self.best, "bad_evals": self.bad_evals,
                "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.reduction = float(state["reduction"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_evals = int(state["bad_evals"])
        self.cooldown_left = int(state["cooldown_left"])
