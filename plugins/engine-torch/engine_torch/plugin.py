"""Entry point of engine-torch: registers the ``torch`` backend by import path (torch stays unimported)."""

from __future__ import annotations

from typing import Any

from engine import ComponentRegistry, Spec, check_libraries, hookimpl, parallelism_problems
from engine_torch.environment import torch_facts
from engine_torch.options import TorchOptions, check


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "torch", "engine_torch.backend:TorchBackend", options=TorchOptions,
                 description="PyTorch model and datasets by import path; exact resume, safetensors export")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    backend = spec.component("backend")
    if backend is None or not isinstance(backend.options, TorchOptions):
        return None
    missing = check_libraries(spec, TorchOptions, ("torch", "safetensors"),
                              install="pip install torch safetensors (see pytorch.org for your platform)")
    counts = {"threads": backend.options.threads, "num_workers": backend.options.num_workers}
    return ((missing or []) + parallelism_problems(counts, where=backend.path)
            + check(backend.options, backend.path)) or None


@hookimpl
def engine_environment() -> dict[str, Any] | None:
    """torch's CUDA and cuDNN build and the run's GPUs, for ``env.json`` (only when the run
    imported torch; CUDA is never initialised for it)."""
    facts = torch_facts()
    return {"torch": facts} if facts is not None else None
