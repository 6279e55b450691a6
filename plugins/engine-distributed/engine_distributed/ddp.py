"""The ``ddp`` strategy: ``DistributedDataParallel``; rank 0 writes the full state."""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from engine import hookimpl
from engine_distributed.options import DdpOptions
from engine_distributed.process_group import TorchProcesses


class DdpStrategy(TorchProcesses):
    """Every process holds the whole model; DDP averages the gradients of each step.

    Checkpoints are the backend's own full state, written by rank 0 alone (every process
    holds the same weights); a resume loads them on every process.
    """

    options: DdpOptions

    def __init__(self, options: DdpOptions):
        super().__init__(options)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        device = next(module.parameters()).device
        return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None,
                                       find_unused_parameters=self.options.find_unused_parameters)

    def model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
        return None

    def load_model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                         state: dict[str, Any]) -> None:
        raise AssertionError("ddp checkpoints hold the backend's full state")

    def full_state(self, module: torch.nn.Module) -> dict[str, torch.Tensor] | None:
        assert self.run is not None
        return module.state_dict() if self.run.is_main_process else None

    @hookimpl
    def on_run_end(self, status: str) -> None:
        super().on_run_end(status)
