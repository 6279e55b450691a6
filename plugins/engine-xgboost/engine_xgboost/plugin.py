"""Entry point: registers the ``xgboost`` backend by import path (xgboost loads only when used)."""

from __future__ import annotations

from engine_tabular import spec_problems

from engine import ComponentRegistry, Spec, hookimpl
from engine_xgboost.device import device_problem
from engine_xgboost.options import XGBoostOptions

INSTALL = "pip install xgboost (or xgboost-cpu, CPU only)"


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "xgboost", "engine_xgboost.backend:XGBoostBackend", options=XGBoostOptions,
                 description="XGBoost boosted trees; one step is one boosting round",
                 requires=("xgboost",), install=INSTALL)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Name the library the backend needs when it is not installed; refuse more threads than the
    machine has, and a CUDA device this machine or xgboost build lacks."""
    problems = spec_problems(spec, XGBoostOptions, modules=("xgboost",), install=INSTALL)
    backend = spec.component("backend")
    if problems or backend is None or not isinstance(backend.options, XGBoostOptions):
        return problems
    problem = device_problem(backend.options.device, backend.options.params, backend.path)
    return [problem] if problem else None
