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
    if getattr(options, "warmup_steps", None) is not None:
        warmup = options.warmup_steps  # type: ignore[union-attr]
    elif getattr(options, "warmup_epochs", None) is not None:
        epochs: int = options.warmup_epochs  # type: ignore[union-attr]
        warmup = epochs if unit == "epoch" else epochs * steps_per_epoch
    elif getattr(options, "warmup_fraction", None) is not None and total is not None:
        warmup = round(options.warmup_fraction * total)  # type: ignore[union-attr]
    return Lengths(unit, per_unit, total, warmup)
