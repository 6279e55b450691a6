"""Entry point of engine-transformers: registers the ``transformers`` backend by import path
(torch and transformers stay unimported until a run uses it)."""

from __future__ import annotations

from engine import ComponentRegistry, Spec, check_libraries, hookimpl
from engine_transformers.options import TransformersOptions, check


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "transformers", "engine_transformers.backend:TransformersBackend",
                 options=TransformersOptions,
                 description="Hugging Face model by class and checkpoint, text files tokenised with datasets, "
                             "LoRA through peft; save_pretrained export")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    backend = spec.component("backend")
    if backend is None or not isinstance(backend.options, TransformersOptions):
        return None
    libraries = ("transformers", "datasets", "tokenizers", *(("peft",) if backend.options.lora else ()))
    missing = check_libraries(spec, TransformersOptions, libraries,
                              install="pip install engine-transformers (transformers, datasets, tokenizers, peft)")
    return ((missing or []) + check(backend.options, backend.path)) or None
