"""A tiny model and tiny data for the flavour tests, importable by the CLI's subprocess (the
tests put this folder on its PYTHONPATH) and by the test that loads the logged model back."""

from __future__ import annotations

from typing import Any


def blobs(n: int = 120, features: int = 4, seed: int = 0) -> Any:
    """A DataFrame of two separable classes with a ``label`` column."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    x = rng.normal(size=(n, features)) + label[:, None] * 1.5
    frame = pd.DataFrame(x.astype("float32"), columns=[f"f{i}" for i in range(features)])
    frame["label"] = label
    return frame


def tensors() -> dict[str, Any]:
    """The same data as torch datasets (float features, integer labels)."""
    import torch
    from torch.utils.data import TensorDataset

    frame = blobs()
    x = torch.tensor(frame.drop(columns="label").to_numpy())
    y = torch.tensor(frame["label"].to_numpy())
    return {"train": TensorDataset(x[:90], y[:90]), "val": TensorDataset(x[90:], y[90:])}


def Net(features: int = 4, hidden: int = 8, classes: int = 2) -> Any:  # noqa: N802 - stands for a class
    """A small MLP (built by a function so the module imports without torch)."""
    from torch import nn

    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))
