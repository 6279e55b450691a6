"""Metric names shared by the tabular backends: ``train/<metric>`` and ``val/<metric>``."""

from __future__ import annotations

TRAIN = "train"
VAL = "val"


def metric_name(split: str, metric: str) -> str:
    """``train/logloss``, ``val/auc``: the split, a slash, the library's metric name."""
    return f"{split}/{metric}"
