"""Models and data for the memory tools' tests: a deep MLP of blocks, an HF-like model, token batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from torch.utils.data import Dataset


class Block(nn.Module):
    """Linear → LayerNorm → ReLU → Dropout, with a residual."""

    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(torch.relu(self.norm(self.linear(x))))


class DeepMLP(nn.Module):
    def __init__(self, features: int = 8, width: int = 32, depth: int = 6, classes: int = 3):
        super().__init__()
        self.inp = nn.Linear(features, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.out = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.inp(x)))


class HFLike(DeepMLP):
    """Has ``gradient_checkpointing_enable`` as Hugging Face models do; it leaves a marker file."""

    def __init__(self, marker: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.marker = marker
        self.checkpointing = False

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict[str, Any] | None = None) -> None:
        self.checkpointing = True
        Path(self.marker).write_text(repr(gradient_checkpointing_kwargs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=False) if self.checkpointing and self.training else block(x)
        return self.out(x)


class TokenDataset(Dataset):  # type: ignore[type-arg]
    """Rows of 8 token ids, the first ``3 + i % 4`` real, the rest padding; label: the first id's parity."""

    def __init__(self, n: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, 50, (n, 8), generator=g)
        lengths = 3 + torch.arange(n) % 4
        self.mask = (torch.arange(8).unsqueeze(0) < lengths.unsqueeze(1)).long()
        self.ids = self.ids * self.mask

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": self.mask[i], "labels": self.ids[i, 0] % 2}


class TokenModel(nn.Module):
    """``model(input_ids, attention_mask, labels) -> {"loss", "logits"}``, as a text model does."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> Any:
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (self.embed(input_ids) * mask).sum(1) / mask.sum(1)
        logits = self.head(pooled)
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


def token_datasets() -> dict[str, Any]:
    return {"train": TokenDataset(64), "val": TokenDataset(16, seed=1)}
