"""Built-in backend ``testing``: a pure-Python model for examples and plugin tests."""

from __future__ import annotations

from engine import hookimpl
from engine.components import ComponentRegistry
from engine.testing.backend import TestingBackendOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "testing", "engine.testing.backend:TestingBackend",
                 options=TestingBackendOptions,
                 description="pure-Python linear model trained by noisy SGD, for tests and examples")
