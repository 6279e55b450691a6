"""Entry point: registers the ``sklearn`` backend by import path (sklearn loads only when used)."""

from __future__ import annotations

from engine import hookimpl
from engine.components import ComponentRegistry
from engine_sklearn.options import SklearnOptions


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "sklearn", "engine_sklearn.backend:SklearnBackend", options=SklearnOptions,
                 description="any scikit-learn estimator; warm-start ensembles grow and partial_fit passes per step")
