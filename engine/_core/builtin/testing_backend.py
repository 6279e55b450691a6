"""Built-in backend ``testing``: a pure-Python model for examples and plugin tests."""

from __future__ import annotations

import attrs

from engine._core.components import ComponentRegistry
from engine._core.hookspecs import hookimpl
from engine._core.resume_changes import NUMERICS, STRUCTURAL
from engine._core.spec.types import NonNegativeFloat, PositiveFloat, PositiveInt


@attrs.define
class TestingBackendOptions:
    """Options of the ``testing`` backend."""

    dim: PositiveInt = attrs.field(default=4, metadata=STRUCTURAL)
    train_size: PositiveInt = 64
    val_size: PositiveInt = 32
    batch_size: PositiveInt = attrs.field(default=8, metadata=NUMERICS)
    lr: PositiveFloat = 0.05
    noise: NonNegativeFloat = 0.1
    """Standard deviation of the noise added to every gradient (from the backend's RNG)."""
    step_seconds: NonNegativeFloat = 0.0
    """Sleep this long in every step, to make a run slow enough to interrupt."""
    nan_at_step: int | None = None
    """Make the loss non-finite from this step on."""
    fail_at_step: int | None = None
    """Raise ``RuntimeError`` in this step."""


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "testing", "engine.testing.backend:TestingBackend",
                 options=TestingBackendOptions,
                 description="pure-Python linear model trained by noisy SGD, for tests and examples")
