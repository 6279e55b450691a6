"""A tiny model, data and plugins for the distributed tests (no dropout: runs compare exactly)."""

from __future__ import annotations

import os
import time
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from engine import hookimpl


class Tiny(nn.Module):
    """Linear → ReLU → Linear."""

    def __init__(self, features: int = 8, hidden: int = 16, classes: int = 3):
        super().__init__()
        self.inp = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.inp(x)))


class Slow(Tiny):
    """Tiny, 50 ms per forward pass: long enough to kill a run between two checkpoints."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.05)
        return super().forward(x)


class CrashOnRank1(Tiny):
    """The process of rank 1 dies (exit status 7) in its sixth forward pass."""

    calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        CrashOnRank1.calls += 1
        if os.environ.get("RANK") == "1" and CrashOnRank1.calls > 5:
            os._exit(7)
        return super().forward(x)


class CountRows(Tiny):
    """Tiny, appending the rows of each training forward pass to ``rows-RANK.txt`` in the working directory."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with open(f"rows-{os.environ.get('RANK', '0')}.txt", "a") as log:
                log.write(f"{x.shape[0]}\n")
        return super().forward(x)


def datasets(n_train: int = 96, n_val: int = 30) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 8, generator=g) * 2
    y = torch.randint(0, 3, (n_train + n_val,), generator=g)
    x = centers[y] + torch.randn(n_train + n_val, 8, generator=g)
    return {"train": TensorDataset(x[:n_train], y[:n_train]), "val": TensorDataset(x[n_train:], y[n_train:])}


def loaders(batch_size: int = 16) -> dict[str, Any]:
    """The sets of ``datasets()`` as ready DataLoaders, in order (no shuffle)."""
    sets = datasets()
    return {name: DataLoader(data, batch_size=batch_size, shuffle=False) for name, data in sets.items()}


class StopOnRank1:
    """Asks to stop on rank 1 only, at step 5."""

    @hookimpl
    def on_step(self, run: Any) -> None:
        if run.rank == 1 and run.step == 5:
            run.stop("rank 1 wants to stop")


@hookimpl
def engine_run_plugins(run: Any) -> list[tuple[str, object]]:
    return [("test:stop-on-rank-1", StopOnRank1())]
