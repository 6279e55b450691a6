"""Entry point: registers the ``catboost`` backend by import path (catboost loads only when used)."""

from __future__ import annotations

from engine_tabular import spec_problems

from engine import ComponentRegistry, Spec, hookimpl
from engine_catboost.options import CatBoostOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "catboost", "engine_catboost.backend:CatBoostBackend", options=CatBoostOptions,
                 description="CatBoost boosted trees; one step is one boosting round")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed; refuse more threads than the machine has."""
    return spec_problems(spec, CatBoostOptions, modules=("catboost",), install="pip install 'catboost>=1.2.10'")
