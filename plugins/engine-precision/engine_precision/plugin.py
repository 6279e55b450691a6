"""Entry point of engine-precision: the modes by import path (torch stays unimported), and the spec check."""

from __future__ import annotations

from engine import ComponentRegistry, Spec, hookimpl

#: Mode name -> (class in engine_precision.modes, description).
MODES: dict[str, tuple[str, str]] = {
    "auto": ("Auto", "bf16-mixed where the device computes in bfloat16 natively (CUDA, Ampere on), else 32-true"),
    "32-true": ("Single", "float32 weights, inputs and arithmetic (the default without [precision])"),
    "64-true": ("Double", "float64 weights, inputs and arithmetic"),
    "16-mixed": ("Float16Mixed", "float16 autocast with a gradient scaler; float32 weights"),
    "bf16-mixed": ("BFloat16Mixed", "bfloat16 autocast; float32 weights"),
    "bf16-true": ("BFloat16True", "bfloat16 weights, inputs and arithmetic"),
}


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    for name, (cls, description) in MODES.items():
        registry.add("precision", name, f"engine_precision.modes:{cls}", description=description)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """A mode from this plugin needs a backend that declares it in its options' ``precisions``."""
    precision = spec.component("precision")
    backend = spec.component("backend")
    if precision is None or backend is None or precision.name not in MODES:
        return None
    supported = getattr(backend.component.options, "precisions", ())
    if precision.name in supported:
        return None
    able = "it supports none" if not supported else f"it supports {', '.join(supported)}"
    return [f"precision.use: backend {backend.name!r} ({backend.component.distribution}) cannot train "
            f"in {precision.name!r}; {able} — remove [precision] or use the torch backend"]
