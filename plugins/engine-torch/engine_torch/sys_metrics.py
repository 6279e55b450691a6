"""``sys/*`` training metrics: peak memory, samples and tokens per second.

Counted per micro-batch without a device sync: rows from the batch's shape, tokens as a device
sum of ``attention_mask`` (or the size of ``input_ids``) brought to the host only when the
loop logs, with the training loss.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import torch

MEMORY_PEAK = "sys/memory_peak"
SAMPLES_PER_S = "sys/samples_per_s"
TOKENS_PER_S = "sys/tokens_per_s"


def memory_peak(device: torch.device) -> int:
    """Bytes: CUDA's maximum allocated on ``device``, else the process's peak resident set size."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB elsewhere


def rows_of(batch: Any) -> int:
    """The rows of a batch: the first dimension of its first tensor (1 when it has none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim else 1
    values = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (tuple, list)) else ()
    for item in values:
        if isinstance(item, torch.Tensor) and item.ndim:
            return int(item.shape[0])
    return 1


def tokens_of(batch: Any) -> torch.Tensor | int | None:
    """Non-padding tokens of a text batch (a dict with ``attention_mask`` or ``input_ids``), else ``None``."""
    if not isinstance(batch, dict):
        return None
    mask = batch.get("attention_mask")
    if isinstance(mask, torch.Tensor):
        return mask.sum()  # stays on the device: no sync here
    ids = batch.get("input_ids")
    return int(ids.numel()) if isinstance(ids, torch.Tensor) else None


class SystemMeter:
    """Counts rows, tokens and training time between two logs; ``collect`` gives the ``sys/`` metrics."""

    def __init__(self, device: torch.device):
        self.device = device
        self.rows = 0
        self.tokens: torch.Tensor | int | None = None
        self.seconds = 0.0
        self.started = 0.0

    def start_step(self) -> None:
        self.started = time.perf_counter()

    def end_step(self) -> None:
        self.seconds += time.perf_counter() - self.started

    def count(self, batch: Any) -> None:
        """One micro-batch (before it is moved to the device)."""
        self.rows += rows_of(batch)
        tokens = tokens_of(batch)
        if tokens is not None:
            self.tokens = tokens if self.tokens is None else self.tokens + tokens

    def collect(self) -> dict[str, float]:
        """The metrics since the last call (only ``sys/memory_peak`` when no step ran since)."""
        metrics = {MEMORY_PEAK: float(memory_peak(self.device))}
        if self.rows and self.seconds > 0:
            metrics[SAMPLES_PER_S] = self.rows / self.seconds
            if self.tokens is not None:
                tokens = self.tokens.item() if isinstance(self.tokens, torch.Tensor) else self.tokens
                metrics[TOKENS_PER_S] = float(tokens) / self.seconds
        self.rows, self.tokens, self.seconds = 0, None, 0.0
        return metrics
