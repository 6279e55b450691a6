"""A schedule's lengths in its own units: how long the run and its warmup are."""

from __future__ import annotations

import math

import attrs

from engine_schedulers.options import AnyOptions


@attrs.frozen
class Lengths:
    """The run's length and the warmup's, in the schedule's units (steps or epochs)."""

    unit: str
    """``"step"`` or ``"epoch"``."""
    steps_per_unit: int
    total: int | None
    """Units in the run; ``None`` when only ``loop.max_time`` limits it."""
    warmup: int


def resolve(options: AnyOptions, total_steps: float, steps_per_epoch: int) -> Lengths:
    """Lengths of ``options``' schedule in a run of ``total_steps`` steps (``inf`` if unbounded)."""
    unit = getattr(options, "interval", "step")
    per_unit = steps_per_epoch if unit == "epoch" else 1
    total = None if math.isinf(total_steps) else math.ceil(total_steps / per_unit)
    warmup = 0
    steps: int | None = getattr(options, "warmup_steps", None)
    epochs: int | None = getattr(options, "warmup_epochs", None)
    fraction: float | None = getattr(options, "warmup_fraction", None)
    if steps is not None:
        warmup = steps
    elif epochs is not None:
        warmup = epochs if unit == "epoch" else epochs * steps_per_epoch
    elif fraction is not None and total is not None:
        warmup = round(fraction * total)
    return Lengths(unit, per_unit, total, warmup)
