"""scikit-learn's bundled 8×8 digits for the torch examples: an MLP and its datasets.

Used by ``digits_mlp.toml`` and ``digits_mlp_bf16.toml`` as ``examples.digits:MLP`` and
``examples.digits:datasets`` (run ``engine`` from the repository root).
"""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import TensorDataset


class MLP(nn.Module):
    """``depth`` hidden layers of ``hidden`` units with ReLU; 64 pixels in, 10 classes out."""

    def __init__(self, hidden: int = 128, depth: int = 1, dropout: float = 0.0, inputs: int = 64,
                 classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        width = inputs
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def datasets(val_fraction: float = 0.2, split_seed: int = 0) -> dict[str, TensorDataset]:
    """Train and validation splits of the 1797 digits, pixels scaled to [0, 1]."""
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(split_seed))
    n_val = int(len(y) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return {"train": TensorDataset(x[train], y[train]), "val": TensorDataset(x[val], y[val])}
