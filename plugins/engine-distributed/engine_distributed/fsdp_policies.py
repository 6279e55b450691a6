"""What ``[strategy] use = "fsdp"`` shards and how: the units, mixed precision, CPU offload.

Everything here is FSDP2's own machinery (``fully_shard``'s ``MixedPrecisionPolicy`` and
``CPUOffloadPolicy``); this module only turns the spec's options into it.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy

from engine import EngineError
from engine_distributed.options import FsdpOptions

WHERE = "strategy"
#: The class of torch's activation checkpointing wrapper (engine-torch's ``activation_checkpointing``).
CHECKPOINT_WRAPPER = "CheckpointWrapper"


def class_name(module: torch.nn.Module) -> str:
    """The class a user knows a module by: a checkpointing wrapper goes by its wrapped module's."""
    if type(module).__name__ == CHECKPOINT_WRAPPER:
        return class_name(_wrapped(module))
    return type(module).__name__


def units(module: torch.nn.Module, names: list[str]) -> list[torch.nn.Module]:
    """The submodules sharded one by one, innermost first (``fully_shard`` needs that order).

    No ``names``: every direct child with trainable parameters (the elements of a ``ModuleList``
    or ``ModuleDict`` child, which has no forward pass of its own). With ``names``: every
    submodule of those classes; a block inside an activation checkpointing wrapper is sharded as
    the wrapper, so the recomputation gathers its parameters again. A name no submodule has is
    an :class:`engine.EngineError` naming the classes the model has.
    """
    if not names:
        return [child for child in _children(module) if any(p.requires_grad for p in child.parameters())]
    inner = {id(_wrapped(m)) for m in module.modules() if type(m).__name__ == CHECKPOINT_WRAPPER}
    candidates = [m for m in module.modules() if m is not module and id(m) not in inner and not _container(m)]
    present = {class_name(m) for m in candidates}
    missing = [name for name in names if name not in present]
    if missing:
        raise EngineError(f"wrap names {', '.join(map(repr, missing))}, which no submodule of "
                          f"{type(module).__name__} is", where=f"{WHERE}.wrap",
                          fix=f"name classes of the model's submodules: {', '.join(sorted(present)) or 'none'}")
    wanted = set(names)
    # module.modules() lists a parent before its descendants: reversed, every unit precedes its parent
    return [m for m in reversed(candidates) if class_name(m) in wanted]


def _wrapped(wrapper: torch.nn.Module) -> torch.nn.Module:
    """The module inside an activation checkpointing wrapper."""
    return cast(torch.nn.Module, wrapper._checkpoint_wrapped_module)


def _children(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The direct children of ``module``, with each container replaced by its own children."""
    out: list[torch.nn.Module] = []
    for child in module.children():
        out.extend(_children(child) if _container(child) else [child])
    return out


def _container(module: torch.nn.Module) -> bool:
    """A module without a forward pass of its own, which ``fully_shard`` cannot shard."""
    return isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict))


def mixed_precision(options: FsdpOptions) -> MixedPrecisionPolicy:
    """Parameters gathered in ``param_dtype`` for forward and backward, gradients reduced in
    ``reduce_dtype`` (each default: the parameters' own dtype)."""
    return MixedPrecisionPolicy(param_dtype=_dtype(options.param_dtype), reduce_dtype=_dtype(options.reduce_dtype))


def offload(options: FsdpOptions, device: torch.device) -> OffloadPolicy:
    """With ``cpu_offload``, sharded parameters, gradients and the optimizer step live in host
    memory and are copied to the device for each unit's forward and backward."""
    if not options.cpu_offload:
        return OffloadPolicy()
    return CPUOffloadPolicy(pin_memory=device.type == "cuda")


def offload_note(options: FsdpOptions, device: torch.device) -> str | None:
    """What ``cpu_offload`` means for a run on ``device``, when it means nothing."""
    if options.cpu_offload and device.type == "cpu":
        return ("strategy.cpu_offload: this run trains on the CPU, where the parameters already live in host "
                "memory — the option only saves device memory on an accelerator")
    return None


def fully_shard_arguments(options: FsdpOptions, mesh: Any, device: torch.device) -> dict[str, Any]:
    """The keyword arguments of every ``fully_shard`` call of a run."""
    return {"mesh": mesh, "reshard_after_forward": options.reshard_after_forward,
            "mp_policy": mixed_precision(options), "offload_policy": offload(options, device)}


def _dtype(name: str | None) -> torch.dtype | None:
    return None if name is None else getattr(torch, name)  # type: ignore[no-any-return]
