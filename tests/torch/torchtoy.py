"""Small models, datasets and step functions for the torch backend's tests."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

#: Index batches fetched by ``RecordingDataset`` in this process, in order.
FETCHED: list[list[int]] = []


class Tiny(nn.Module):
    """Linear → LayerNorm → ReLU → Dropout → Linear."""

    def __init__(self, features: int = 8, hidden: int = 16, classes: int = 3, dropout: float = 0.1):
        super().__init__()
        self.inp = nn.Linear(features, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(torch.relu(self.norm(self.inp(x)))))


class LossModel(Tiny):
    """Computes its own loss: ``model(x, y) -> {"loss", "logits"}``."""

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Any:  # type: ignore[override]
        logits = super().forward(x)
        return {"loss": nn.functional.cross_entropy(logits, y), "logits": logits}


def tensors(n: int, features: int = 8, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(classes, features, generator=g) * 2
    y = torch.randint(0, classes, (n,), generator=g)
    x = centers[y] + torch.randn(n, features, generator=g)
    return x, y


def datasets(n_train: int = 96, n_val: int = 32, features: int = 8, classes: int = 3) -> dict[str, Any]:
    x, y = tensors(n_train + n_val, features, classes)
    return {"train": TensorDataset(x[:n_train], y[:n_train]), "val": TensorDataset(x[n_train:], y[n_train:])}


class ItemDataset(Dataset):  # type: ignore[type-arg]
    """Item by item, like most user datasets."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class RecordingDataset(ItemDataset):
    """Whole batches through ``__getitems__``; records every batch of indices it serves."""

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        FETCHED.append(list(indices))
        return [(self.x[i], self.y[i]) for i in indices]


def item_datasets(n_train: int = 96, n_val: int = 32) -> dict[str, Any]:
    sets = datasets(n_train, n_val)
    return {k: ItemDataset(*v.tensors) for k, v in sets.items()}


def recording_datasets(n_train: int = 96, n_val: int = 32) -> dict[str, Any]:
    sets = datasets(n_train, n_val)
    return {"train": RecordingDataset(*sets["train"].tensors), "val": ItemDataset(*sets["val"].tensors)}


def loader_datasets(n_train: int = 96, n_val: int = 32, batch_size: int = 16) -> dict[str, Any]:
    sets = datasets(n_train, n_val)
    return {"train": DataLoader(sets["train"], batch_size=batch_size, shuffle=True,
                                generator=torch.Generator().manual_seed(0)),
            "val": DataLoader(sets["val"], batch_size=batch_size)}


def with_test(n_train: int = 96, n_val: int = 32) -> dict[str, Any]:
    sets = datasets(n_train, n_val + 16)
    x, y = sets["val"].tensors
    return {"train": sets["train"], "val": TensorDataset(x[:n_val], y[:n_val]),
            "test": TensorDataset(x[n_val:], y[n_val:])}


def regression(n_train: int = 96, n_val: int = 32) -> dict[str, Any]:
    x, _ = tensors(n_train + n_val)
    y = x @ torch.linspace(-1, 1, x.shape[1]).unsqueeze(1)
    return {"train": TensorDataset(x[:n_train], y[:n_train]), "val": TensorDataset(x[n_train:], y[n_train:])}


def contrastive_step(model: nn.Module, batch: Any) -> Any:
    """A custom step: two noisy views of each input should give the same output."""
    x, _ = batch
    a = model(x + 0.1 * torch.randn_like(x))
    b = model(x + 0.1 * torch.randn_like(x))
    return {"loss": (a - b).square().mean()}


def broken_model(**_: Any) -> nn.Module:
    raise ValueError("broken on purpose in the user's factory")


def not_a_dict() -> list[int]:
    return [1, 2, 3]


# ---------------------------------------------------------------- bad data, for tests/torch/test_torch_errors.py

def with_empty_val() -> dict[str, Any]:
    sets = datasets()
    return {"train": sets["train"], "val": TensorDataset(torch.zeros(0, 8), torch.zeros(0, dtype=torch.long))}


def with_non_finite(split: str = "train", tensor: int = 0, row: int = 3, column: int = 2,
                    value: str = "nan") -> dict[str, Any]:
    """The toy data with one value replaced by ``float(value)`` (a regression target when ``tensor`` is 1)."""
    sets = regression() if tensor == 1 else datasets()
    parts = [t.clone() for t in sets[split].tensors]
    parts[tensor][row, column] = float(value)
    return {**sets, split: TensorDataset(*parts)}


def with_wide_val() -> dict[str, Any]:
    sets = datasets()
    x, y = sets["val"].tensors
    return {"train": sets["train"], "val": TensorDataset(torch.cat([x, x], 1), y)}


class BadItems(Dataset):  # type: ignore[type-arg]
    """Items that are None, raise at ``broken``, or change shape every other item."""

    def __init__(self, kind: str, broken: int = 0):
        self.x, self.y = datasets()["train"].tensors
        self.kind, self.broken = kind, broken

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> Any:
        if self.kind == "none":
            return None
        if self.kind == "raise" and i == self.broken:
            raise KeyError(f"row {i} is missing from the user's table")
        if self.kind == "shapes" and i % 2:
            return self.x[i, :7], self.y[i]
        return self.x[i], self.y[i]


def bad_items(kind: str, broken: int = 0) -> dict[str, Any]:
    return {"train": BadItems(kind, broken), "val": datasets()["val"]}


def none_split() -> dict[str, Any]:
    return {"train": None, "val": datasets()["val"]}


NOT_CALLABLE = 42


class RaisingOptimizer(torch.optim.SGD):
    def __init__(self, params: Any, **options: Any):
        raise RuntimeError("the user's optimizer is broken")


# ---------------------------------------------------------------- the test split (test_torch_test_split.py)

class FailsOnFiveRows(Tiny):
    """Tiny, whose forward raises on a batch of 5 rows: only the 5-row test split has one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] == 5:
            raise ValueError("the user's model fails on the test split")
        return super().forward(x)


def with_five_test_rows() -> dict[str, Any]:
    sets = datasets(96, 37)
    x, y = sets["val"].tensors
    return {"train": sets["train"], "val": TensorDataset(x[:32], y[:32]), "test": TensorDataset(x[32:], y[32:])}
