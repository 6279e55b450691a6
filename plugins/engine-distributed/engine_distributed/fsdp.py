"""The ``fsdp`` strategy: FSDP2 (``fully_shard``), sharded checkpoints with torch.distributed.checkpoint."""

from __future__ import annotations

from typing import Any

import torch
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_state_dict,
)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard

from engine import hookimpl
from engine_distributed import fsdp_policies, sharded_files
from engine_distributed.options import FsdpOptions
from engine_distributed.process_group import TorchProcesses


class FsdpStrategy(TorchProcesses):
    """Parameters, gradients and optimizer state sharded over the processes.

    The blocks ``wrap`` names (default: each direct child with parameters) are sharded, then the
    root, as :mod:`engine_distributed.fsdp_policies` says. Checkpoints hold the
    ``torch.distributed.checkpoint`` files of every process: each stores its own shard in the
    run's checkpoint storage and rank 0 commits the manifest once all have reported
    (:mod:`engine_distributed.sharded_files`), so a resume may use a different number of processes.
    """

    sharded = True
    options: FsdpOptions

    def __init__(self, options: FsdpOptions):
        super().__init__(options)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        assert self.run is not None
        device = next(module.parameters()).device
        units = fsdp_policies.units(module, self.options.wrap)  # a wrong class name fails before the group is used
        note = fsdp_policies.offload_note(self.options, device)
        if note and self.run.is_main_process:
            self.run.warn(note)
        mesh = init_device_mesh(device.type, (self.run.world_size,))
        arguments = fsdp_policies.fully_shard_arguments(self.options, mesh, device)
        for unit in units:
            fully_shard(unit, **arguments)
        fully_shard(module, **arguments)
        return module

    def model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
        model_state, optimizer_state = get_state_dict(module, optimizer)
        return sharded_files.save({"model": model_state, "optimizer": optimizer_state})

    def load_model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                         state: dict[str, Any]) -> None:
        model_state, optimizer_state = get_state_dict(module, optimizer)
        loaded: dict[str, Any] = {"model": model_state, "optimizer": optimizer_state}
        sharded_files.load(loaded, state)
        set_state_dict(module, optimizer, model_state_dict=loaded["model"], optim_state_dict=loaded["optimizer"])

    def full_state(self, module: torch.nn.Module) -> dict[str, torch.Tensor] | None:
        assert self.run is not None
        on_cuda = next(module.parameters()).device.type == "cuda"
        # On CPU every process gathers the full weights (CPU offload would only copy them).
        tensors: dict[str, torch.Tensor] = get_model_state_dict(  # type: ignore[assignment]
            module, options=StateDictOptions(full_state_dict=True, cpu_offload=on_cuda))
        return tensors if self.run.is_main_process else None

    @hookimpl
    def on_run_end(self, status: str) -> None:
        super().on_run_end(status)
