"""The shapes of the schedules: pure functions of progress, free of any engine state."""

from __future__ import annotations

import math
from collections.abc import Callable

Shape = Callable[[float, float], float]


def warmup(t: int, length: int) -> float:
    """Linear warmup: the ``t``-th unit (0-based) of a ``length``-unit warmup runs at ``(t+1)/length``."""
    return 1.0 if t >= length else (t + 1) / length


def progress(t: int, start: int, end: int) -> float:
    """How far ``t`` is from ``start`` (0) to ``end`` (1), clamped to [0, 1]."""
    if end <= start:
        return 1.0
    return min(1.0, max(0.0, (t - start) / (end - start)))


def cosine(p: float, floor: float) -> float:
    """Half a cosine from 1 at ``p = 0`` down to ``floor`` at ``p = 1``."""
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * p))


def linear(p: float, floor: float) -> float:
    """A straight line from 1 at ``p = 0`` down to ``floor`` at ``p = 1``."""
    return floor + (1.0 - floor) * (1.0 - p)


def polynomial(p: float, floor: float, power: float) -> float:
    """``(1 - p) ** power`` scaled to end at ``floor``."""
    return floor + (1.0 - floor) * (1.0 - p) ** power


def one_cycle(t: int, total: int, pct_start: float, div_factor: float, final_div_factor: float,
              anneal: str) -> float:
    """PyTorch ``OneCycleLR`` (two phases) as a multiple of ``max_lr``, at 0-based step ``t`` of ``total``."""
    start = 1.0 / div_factor
    end = start / final_div_factor
    peak_at = pct_start * total - 1
    shape: Shape = cosine if anneal == "cos" else linear
    if t <= peak_at:
        p = t / peak_at if peak_at > 0 else 1.0
        return _between(start, 1.0, p, shape)
    p = min(1.0, (t - peak_at) / (total - 1 - peak_at)) if total - 1 > peak_at else 1.0
    return _between(1.0, end, p, shape)


def _between(a: float, b: float, p: float, shape: Shape) -> float:
    """From ``a`` at ``p = 0`` to ``b`` at ``p = 1`` along a cosine or linear ``shape``."""
    return b + (a - b) * shape(p, 0.0)
