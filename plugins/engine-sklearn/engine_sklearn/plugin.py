"""Entry point: registers the ``sklearn`` backend by import path (sklearn loads only when used)."""

from __future__ import annotations

from engine_tabular import spec_problems

from engine import ComponentRegistry, Spec, hookimpl
from engine_sklearn.options import SklearnOptions

INSTALL = "pip install 'scikit-learn>=1.3'"


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "sklearn", "engine_sklearn.backend:SklearnBackend", options=SklearnOptions,
                 description="any scikit-learn estimator; warm-start ensembles grow and partial_fit passes per step",
                 requires=("sklearn",), install=INSTALL)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed; refuse more threads than the machine has."""
    return spec_problems(spec, SklearnOptions, modules=("sklearn",), install=INSTALL)
