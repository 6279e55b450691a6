"""A model of repeated blocks and a plugin reporting what FSDP did with it (test_fsdp_policies)."""

from __future__ import annotations

import json
import os
from typing import Any

import torch
from torch import nn

from engine import hookimpl


class Block(nn.Module):
    """A residual Linear → ReLU; its training forward passes record the dtype they compute in."""

    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with open(f"dtypes-{os.environ.get('RANK', '0')}.txt", "a") as log:
                log.write(f"{self.linear.weight.dtype}\n")
        return x + torch.relu(self.linear(x))


class Blocks(nn.Module):
    """Linear → two Blocks (in a ModuleList) → Linear."""

    def __init__(self, features: int = 8, width: int = 16, classes: int = 3):
        super().__init__()
        self.inp = nn.Linear(features, width)
        self.blocks = nn.ModuleList([Block(width), Block(width)])
        self.out = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


class ReportSharding:
    """Writes ``sharding-RANK.json`` at the start: each FSDP unit's name and class, and where
    the sharded parameters live."""

    @hookimpl
    def on_run_start(self, run: Any) -> None:
        from torch.distributed.fsdp import FSDPModule

        model = run.backend.model
        units = {name: type(module).__name__ for name, module in model.named_modules()
                 if isinstance(module, FSDPModule)}
        devices = sorted({str(p.device) for p in model.parameters()})
        with open(f"sharding-{run.rank}.json", "w") as out:
            json.dump({"units": units, "devices": devices}, out)


@hookimpl
def engine_run_plugins(run: Any) -> list[tuple[str, object]]:
    return [("test:report-sharding", ReportSharding())]
