"""The stateless schedules: the lr factor is a function of the step and the run's length only.

Nothing is counted between steps, so a resumed run gets exactly the curve of a run that never
stopped, and every backend (torch, boosted trees, ...) can ask for the factor of any step.
"""

from __future__ import annotations

import bisect
from typing import Any

from engine import Run
from engine_schedulers import curves
from engine_schedulers.lengths import Lengths, resolve


class Schedule:
    """Base class: ``factor(run)`` = warmup ramp × :meth:`shape` at the current unit."""

    def __init__(self, options: Any):
        self.options = options
        self._run: Run | None = None
        self.lengths = Lengths("step", 1, None, 0)

    def factor(self, run: Run) -> float:
        """Multiplier of the base lr for the step about to run (``run.step + 1``)."""
        if run is not self._run:
            self.bind(run)
        lengths = self.lengths
        t = run.step // lengths.steps_per_unit
        return curves.warmup(t, lengths.warmup) * self.shape(t)

    def bind(self, run: Run) -> None:
        """Read the run's length (it does not change during a run)."""
        self._run = run
        self.lengths = resolve(self.options, run.step_limit, run.steps_per_epoch)

    def shape(self, t: int) -> float:
        """The factor at 0-based unit ``t``, before the warmup ramp."""
        raise NotImplementedError

    def _progress(self, t: int) -> float:
        total = self.lengths.total
        assert total is not None, "checked before the run starts"
        return curves.progress(t, self.lengths.warmup, total)


class Constant(Schedule):
    def shape(self, t: int) -> float:
        return float(self.options.factor)


class Step(Schedule):
    def shape(self, t: int) -> float:
        return float(self.options.gamma ** (t // self.options.step_size))


class MultiStep(Schedule):
    def shape(self, t: int) -> float:
        return float(self.options.gamma ** bisect.bisect_right(self.options.milestones, t))


class Exponential(Schedule):
    def shape(self, t: int) -> float:
        return float(self.options.gamma ** t)


class Cosine(Schedule):
    """Cosine decay after the warmup (also ``warmup-cosine``)."""

    def shape(self, t: int) -> float:
        return curves.cosine(self._progress(t), self.options.min_factor)


class WarmupLinear(Schedule):
    def shape(self, t: int) -> float:
        return curves.linear(self._progress(t), self.options.min_factor)


class Polynomial(Schedule):
    def shape(self, t: int) -> float:
        return curves.polynomial(self._progress(t), self.options.min_factor, self.options.power)


class OneCycle(Schedule):
    def shape(self, t: int) -> float:
        o = self.options
        assert self.lengths.total is not None, "checked before the run starts"
        return curves.one_cycle(t, self.lengths.total, o.pct_start, o.div_factor, o.final_div_factor, o.anneal)
