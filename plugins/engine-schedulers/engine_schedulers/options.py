"""Options of every schedule, as the spec's ``[scheduler]`` section writes them.

Counts (``step_size``, ``milestones``, warmup) are in the schedule's ``interval``: steps for
``interval = "step"``, epochs for ``interval = "epoch"``. Checks that involve several keys
or the run's length are in :mod:`engine_schedulers.checks`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import attrs

from engine import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

Interval = Literal["step", "epoch"]


@attrs.define(kw_only=True)
class WarmupOptions:
    """A linear warmup from ``1/W`` to 1 of the base lr over the first ``W`` steps or epochs."""

    #: Whether the schedule is meaningless without a warmup (``warmup-cosine``, ``warmup-linear``).
    needs_warmup: ClassVar[bool] = False
    #: Whether the curve is defined by the run's total length (cosine, linear, polynomial, one-cycle).
    needs_length: ClassVar[bool] = False

    warmup_steps: NonNegativeInt | None = None
    """Warmup length in steps (``interval = "step"`` only)."""
    warmup_epochs: NonNegativeInt | None = None
    """Warmup length in epochs."""
    warmup_fraction: NonNegativeFloat | None = None
    """Warmup length as a fraction of the run, in [0, 1)."""


@attrs.define(kw_only=True)
class ScheduleOptions(WarmupOptions):
    """Options every interval-driven schedule shares."""

    interval: Interval = "step"
    """``"step"``: the lr changes every step; ``"epoch"``: only when an epoch begins."""


@attrs.define(kw_only=True)
class ConstantOptions(ScheduleOptions):
    """A constant multiple of the base lr (after an optional warmup)."""

    factor: PositiveFloat = 1.0
    """Multiplier of the base learning rate."""


@attrs.define(kw_only=True)
class StepOptions(ScheduleOptions):
    """Multiply the lr by ``gamma`` every ``step_size`` steps (or epochs)."""

    step_size: PositiveInt
    """Steps (or epochs) between two decays, counted from the start of the run."""
    gamma: PositiveFloat = 0.1


@attrs.define(kw_only=True)
class MultiStepOptions(ScheduleOptions):
    """Multiply the lr by ``gamma`` at each milestone."""

    milestones: list[PositiveInt]
    """Increasing steps (or epochs) after which the lr decays, counted from the start of the run."""
    gamma: PositiveFloat = 0.1


@attrs.define(kw_only=True)
class ExponentialOptions(ScheduleOptions):
    """Multiply the lr by ``gamma`` every step (or epoch): ``gamma ** t``."""

    gamma: PositiveFloat


@attrs.define(kw_only=True)
class CosineOptions(ScheduleOptions):
    """Cosine decay from the base lr to ``min_factor`` of it at the end of the run."""

    needs_length: ClassVar[bool] = True
    min_factor: NonNegativeFloat = 0.0
    """Final lr as a fraction of the base lr, in [0, 1]."""


@attrs.define(kw_only=True)
class WarmupCosineOptions(CosineOptions):
    """Linear warmup, then cosine decay to ``min_factor`` at the end of the run."""

    needs_warmup: ClassVar[bool] = True


@attrs.define(kw_only=True)
class WarmupLinearOptions(ScheduleOptions):
    """Linear warmup, then linear decay to ``min_factor`` at the end of the run."""

    needs_warmup: ClassVar[bool] = True
    needs_length: ClassVar[bool] = True
    min_factor: NonNegativeFloat = 0.0
    """Final lr as a fraction of the base lr, in [0, 1]."""


@attrs.define(kw_only=True)
class PolynomialOptions(ScheduleOptions):
    """Polynomial decay ``(1 - p) ** power`` from the base lr to ``min_factor`` of it."""

    needs_length: ClassVar[bool] = True
    power: PositiveFloat = 1.0
    min_factor: NonNegativeFloat = 0.0
    """Final lr as a fraction of the base lr, in [0, 1]."""


@attrs.define(kw_only=True)
class OneCycleOptions:
    """The one-cycle policy (PyTorch's ``OneCycleLR`` with ``max_lr`` = the base lr)."""

    needs_warmup: ClassVar[bool] = False
    needs_length: ClassVar[bool] = True

    interval: Interval = "step"
    """``"step"``: the lr changes every step; ``"epoch"``: only when an epoch begins."""
    pct_start: PositiveFloat = 0.3
    """Fraction of the run spent rising to the base lr, in (0, 1)."""
    div_factor: PositiveFloat = 25.0
    """The cycle starts at ``1 / div_factor`` of the base lr."""
    final_div_factor: PositiveFloat = 1e4
    """The cycle ends at ``1 / (div_factor * final_div_factor)`` of the base lr."""
    anneal: Literal["cos", "linear"] = "cos"


@attrs.define(kw_only=True)
class PlateauOptions(WarmupOptions):
    """Multiply the lr by ``gamma`` when ``monitor`` stops improving (evaluated at each ``on_eval``)."""

    monitor: str = "val/loss"
    mode: Literal["min", "max", "auto"] = "auto"
    """``auto``: ``max`` for accuracy-like names, else ``min`` (as ``[early_stop]``)."""
    gamma: PositiveFloat = 0.1
    """Multiplier applied at each reduction, in (0, 1)."""
    patience: NonNegativeInt = 10
    """Reduce after more than ``patience`` evaluations without improvement."""
    threshold: NonNegativeFloat = 1e-4
    """Minimum change that counts as an improvement."""
    threshold_mode: Literal["rel", "abs"] = "rel"
    """``rel``: relative to the best value; ``abs``: in the metric's units."""
    cooldown: NonNegativeInt = 0
    """Evaluations to wait after a reduction before counting bad evaluations again."""
    min_factor: NonNegativeFloat = 0.0
    """Lower bound of the lr as a fraction of the base lr."""


AnyOptions = ScheduleOptions | OneCycleOptions | PlateauOptions
