"""Entry point: registers the ``xgboost`` backend by import path (xgboost loads only when used)."""

from __future__ import annotations

from engine_tabular import spec_problems

from engine import ComponentRegistry, Spec, hookimpl
from engine_xgboost.options import XGBoostOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "xgboost", "engine_xgboost.backend:XGBoostBackend", options=XGBoostOptions,
                 description="XGBoost boosted trees; one step is one boosting round")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed; refuse more threads than the machine has."""
    return spec_problems(spec, XGBoostOptions, modules=("xgboost",),
                         install="pip install 'engine-xgboost[cpu]' (or [cuda] for GPUs)")
