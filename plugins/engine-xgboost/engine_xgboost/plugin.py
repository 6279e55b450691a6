"""Entry point: registers the ``xgboost`` backend by import path (xgboost loads only when used)."""

from __future__ import annotations

from engine import hookimpl
from engine.components import ComponentRegistry
from engine_xgboost.options import XGBoostOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "xgboost", "engine_xgboost.backend:XGBoostBackend", options=XGBoostOptions,
                 description="XGBoost boosted trees; one step is one boosting round")
