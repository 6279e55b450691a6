"""Entry point of engine-mlflow: registers the tracker by import path, so MLflow is imported
only when a spec uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import hookimpl
from engine_mlflow.options import MlflowOptions

if TYPE_CHECKING:
    from engine import ComponentRegistry


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("tracker", "mlflow", "engine_mlflow.tracker:MlflowTracker", options=MlflowOptions)
