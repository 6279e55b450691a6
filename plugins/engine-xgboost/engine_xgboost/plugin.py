"""Entry point: registers the ``xgboost`` backend by import path (xgboost loads only when used)."""

from __future__ import annotations

from engine import hookimpl
from engine.components import ComponentRegistry
from engine.requirements import check_libraries
from engine.spec.model import Spec
from engine_xgboost.options import XGBoostOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "xgboost", "engine_xgboost.backend:XGBoostBackend", options=XGBoostOptions,
                 description="XGBoost boosted trees; one step is one boosting round")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed."""
    return check_libraries(spec, XGBoostOptions, ("xgboost",),
                           install="pip install 'engine-xgboost[cpu]' (or [cuda] for GPUs)")
