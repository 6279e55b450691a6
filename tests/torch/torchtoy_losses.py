"""Losses by import path for the tests."""

from __future__ import annotations

import torch


def zero(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """A loss with zero gradient everywhere (only weight decay moves weights)."""
    return outputs.sum() * 0.0
