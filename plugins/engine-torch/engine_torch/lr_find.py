"""The learning-rate range test (L. Smith, 2017), as fastai and PyTorch Lightning run it.

The learning rate grows exponentially from ``min_lr`` to ``max_lr`` over ``steps`` optimizer
steps (each of ``accumulate`` batches, as in a run). The loss of each step is smoothed with
an exponential moving average (``beta = 0.98``, bias-corrected, so the first steps are not
pulled towards zero). The sweep
stops early when the smoothed loss exceeds 4× the best so far, or a loss is not finite: the
training has diverged and larger rates tell nothing more.

The suggestion is one tenth of the rate at which the smoothed loss was lowest: the minimum
itself is already at the edge of divergence, and the moving average lags behind the raw
loss, which puts the minimum late. (The steepest descent of the smoothed loss, Lightning's
choice, is noisier: a single lucky step can move it by decades.) No torch here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

#: Weight of the past in the moving average of the loss.
BETA = 0.98
#: The sweep stops once the smoothed loss exceeds this multiple of the best smoothed loss.
DIVERGENCE = 4.0


@dataclass(frozen=True)
class RangeTest:
    """The learning rates tried, their losses (raw and smoothed), and what they suggest."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    #: The number of steps asked for; ``len(lrs)`` is smaller when the sweep stopped early.
    planned: int
    #: Why the sweep stopped (the loss diverged), or ``None`` when it ran every step.
    stopped: str | None

    @property
    def lowest(self) -> int:
        """The index of the lowest smoothed loss (a finite one)."""
        finite = [(value, index) for index, value in enumerate(self.smoothed) if math.isfinite(value)]
        return min(finite)[1] if finite else 0

    @property
    def suggestion(self) -> float:
        """One tenth of the learning rate at the lowest smoothed loss."""
        return self.lrs[self.lowest] / 10

    def caveat(self) -> str | None:
        """Why the suggestion may not be trusted, or ``None``."""
        if self.lowest == 0:
            return "the loss was lowest at the first rate tried: lower --min-lr"
        if self.stopped is None and self.lowest == len(self.lrs) - 1:
            return "the loss was still falling at the last rate tried: raise --max-lr"
        return None


def learning_rates(min_lr: float, max_lr: float, steps: int) -> list[float]:
    """``steps`` rates from ``min_lr`` to ``max_lr``, evenly spaced on a log scale."""
    ratio = max_lr / min_lr
    return [min_lr * ratio ** (index / (steps - 1)) for index in range(steps)]


def range_test(step: Callable[[int, float], float], min_lr: float, max_lr: float, steps: int) -> RangeTest:
    """Call ``step(index, lr)`` (one optimizer step at ``lr``; returns its loss) for each rate
    of the sweep until the loss diverges."""
    planned = learning_rates(min_lr, max_lr, steps)
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    stopped = None
    for index, lr in enumerate(planned):
        loss = step(index, lr)
        lrs.append(lr)
        losses.append(loss)
        if not math.isfinite(loss):
            smoothed.append(math.nan)
            stopped = f"the loss was {loss} at lr {lr:.3g}"
            break
        average = BETA * average + (1 - BETA) * loss
        current = average / (1 - BETA ** (index + 1))
        smoothed.append(current)
        best = min(best, current)
        if current > DIVERGENCE * best:
            stopped = f"the loss diverged at lr {lr:.3g} (smoothed {current:.3g} > {DIVERGENCE:g}× its best {best:.3g})"
            break
    return RangeTest(lrs, losses, smoothed, steps, stopped)


def toml_float(value: float) -> str:
    """``value`` to two significant digits, written so that TOML reads a float (``3.2e-03``, ``0.01``)."""
    text = f"{value:.2g}"
    return text if "." in text or "e" in text else f"{text}.0"
