"""Entry point: registers the ``lightgbm`` backend by import path (lightgbm loads only when used)."""

from __future__ import annotations

from engine_tabular import spec_problems

from engine import ComponentRegistry, Spec, hookimpl
from engine_lightgbm.options import LightGBMOptions

INSTALL = "pip install 'lightgbm>=4,<5'"


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "lightgbm", "engine_lightgbm.backend:LightGBMBackend", options=LightGBMOptions,
                 description="LightGBM boosted trees; one step is one boosting round",
                 requires=("lightgbm",), install=INSTALL)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed; refuse more threads than the machine has."""
    return spec_problems(spec, LightGBMOptions, modules=("lightgbm",), install=INSTALL)
