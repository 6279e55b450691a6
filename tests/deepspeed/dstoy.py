"""A tiny model and data for the deepspeed tests (no dropout: runs compare exactly)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset


class Tiny(nn.Module):
    """Linear → ReLU → Linear."""

    def __init__(self, features: int = 8, hidden: int = 16, classes: int = 3):
        super().__init__()
        self.inp = nn.Linear(features, hidden)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.inp(x)))


def datasets(n_train: int = 96, n_val: int = 30) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    centers = torch.randn(3, 8, generator=g) * 2
    y = torch.randint(0, 3, (n_train + n_val,), generator=g)
    x = centers[y] + torch.randn(n_train + n_val, 8, generator=g)
    return {"train": TensorDataset(x[:n_train], y[:n_train]), "val": TensorDataset(x[n_train:], y[n_train:])}
