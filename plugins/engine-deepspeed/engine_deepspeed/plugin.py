"""Entry point of engine-deepspeed: registers the ``deepspeed`` strategy by import path and
checks a spec that selects it (deepspeed is not imported here)."""

from __future__ import annotations

from engine import ComponentRegistry, Spec, check_libraries, hookimpl
from engine_deepspeed import ds_config
from engine_deepspeed.options import DeepSpeedOptions

INSTALL = "pip install 'engine-deepspeed[deepspeed]'"


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("strategy", "deepspeed", "engine_deepspeed.strategy:DeepSpeedStrategy", options=DeepSpeedOptions,
                 description="DeepSpeed ZeRO stages 1-3 over torchrun's processes (gloo on CPU, nccl on CUDA)",
                 requires=("deepspeed",), install=INSTALL)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    strategy, backend = spec.component("strategy"), spec.component("backend")
    if strategy is None or not isinstance(strategy.options, DeepSpeedOptions):
        return None
    problems = check_libraries(spec, DeepSpeedOptions, ("deepspeed",), install=INSTALL, kind="strategy") or []
    if backend is None or backend.name != "torch":
        name = backend.name if backend is not None else None
        return [*problems, f'strategy: "deepspeed" trains the torch backend, not {name!r} — '
                           '[backend] use = "torch"']
    o = backend.options
    precision = spec.component("precision")
    problems += ds_config.spec_problems(
        strategy.options, precision=precision.name if precision is not None else None,
        accumulate=getattr(o, "accumulate", 1), clip_norm=getattr(o, "clip_norm", None),
        clip_value=getattr(o, "clip_value", None), compile_model=bool(getattr(o, "compile", False)),
        batch_size=getattr(o, "batch_size", None))
    return problems or None
