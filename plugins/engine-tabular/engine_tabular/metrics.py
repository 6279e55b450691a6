"""Metric names shared by the tabular backends: ``train/<metric>``, ``val/<metric>``, ``test/<metric>``."""

from __future__ import annotations

TRAIN = "train"
VAL = "val"
TEST = "test"


def metric_name(split: str, metric: str) -> str:
    """``train/logloss``, ``val/auc``: the split, a slash, the library's metric name."""
    return f"{split}/{metric}"
