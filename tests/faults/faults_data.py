"""Tiny generated data and a tiny model for the backend fault tests (importable by ``engine run``)."""

from __future__ import annotations

from typing import Any


def table(rows: int = 300, features: int = 8, seed: int = 0) -> Any:
    """A DataFrame of ``rows`` noisy, nearly separable binary examples with a ``label`` column."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    logits = x @ rng.normal(size=features) + rng.normal(scale=1.5, size=rows)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(features)])
    frame["label"] = (logits > 0).astype(int)
    return frame


def tensors(n_train: int = 80, n_val: int = 32, features: int = 8, classes: int = 3) -> dict[str, Any]:
    """Train and validation ``TensorDataset``s of Gaussian blobs (5 batches of 16 per epoch)."""
    import torch
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(0)
    centers = torch.randn(classes, features, generator=g) * 2
    y = torch.randint(0, classes, (n_train + n_val,), generator=g)
    x = centers[y] + torch.randn(n_train + n_val, features, generator=g)
    return {"train": TensorDataset(x[:n_train], y[:n_train]), "val": TensorDataset(x[n_train:], y[n_train:])}


def tiny(features: int = 8, hidden: int = 16, classes: int = 3, dropout: float = 0.2) -> Any:
    """Linear → ReLU → Dropout → Linear: dropout makes the RNG state part of the result."""
    from torch import nn

    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, classes))
