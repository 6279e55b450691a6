"""Data refused at set-up, before any training: an empty split, a value that is not finite,
validation rows of another width than the training rows.

A ``TensorDataset`` (or a ``Subset`` of one) is checked whole, cheaply; any other dataset by its
first batch, which is fetched here anyway. A ready ``DataLoader`` is checked for emptiness only
(iterating it may start workers). Every problem is one line naming the split and, where known,
the tensor, row and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import Subset, TensorDataset

from engine import EngineError
from engine_torch.data import DatasetBatches, LoaderBatches

WHERE = "backend.data"


def check_splits(splits: dict[str, DatasetBatches | LoaderBatches]) -> None:
    """Refuse an empty split, non-finite values, and evaluation rows wider or narrower than training rows."""
    for name, batches in splits.items():
        _nonempty(name, batches)
    widths: dict[str, dict[str, int]] = {}
    for name, batches in splits.items():
        if not isinstance(batches, DatasetBatches):
            continue
        tensors = whole_tensors(batches.dataset)
        if tensors is not None:
            named = list(zip(_names(len(tensors)), tensors, strict=True))
            _finite(name, named, rows="row")
        else:
            named = list(_leaves(batches.first_batch()))
            _finite(name, named, rows="item")
        widths[name] = {label: int(t.shape[1]) for label, t in named
                        if isinstance(t, torch.Tensor) and t.is_floating_point() and t.ndim == 2}
    _same_widths(widths)


def whole_tensors(dataset: Any) -> list[torch.Tensor] | None:
    """The tensors of a ``TensorDataset`` (a ``Subset`` of one: its rows), else ``None``."""
    if isinstance(dataset, TensorDataset):
        return list(dataset.tensors)
    if isinstance(dataset, Subset) and isinstance(dataset.dataset, TensorDataset):
        rows = torch.as_tensor(dataset.indices, dtype=torch.long)
        return [t.index_select(0, rows) for t in dataset.dataset.tensors]
    return None


def _nonempty(name: str, batches: DatasetBatches | LoaderBatches) -> None:
    if isinstance(batches, DatasetBatches):
        empty = batches.size == 0
    else:
        try:
            empty = len(batches) == 0
        except TypeError:  # an iterable dataset's loader has no length
            return
    if empty:
        raise EngineError(f"the {name} split is empty", where=WHERE,
                          fix=f"return a {name!r} dataset with at least one row from the data function")


def _names(count: int) -> list[str]:
    if count == 2:
        return ["inputs (tensor 0)", "targets (tensor 1)"]
    return [f"tensor {index}" for index in range(count)]


def _leaves(batch: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(name, tensor)`` for every tensor of a batch: ``inputs (tensor 0)``, ``key 'x'`` ..."""
    if isinstance(batch, torch.Tensor):
        yield prefix or "the batch", batch
    elif isinstance(batch, dict):
        for key, value in batch.items():
            yield from _leaves(value, f"{prefix}key {key!r}".strip())
    elif isinstance(batch, (tuple, list)):
        names = _names(len(batch))
        for index, value in enumerate(batch):
            yield from _leaves(value, f"{prefix} {names[index]}".strip() if prefix else names[index])


def _finite(split: str, named: list[tuple[str, Any]], *, rows: str) -> None:
    for label, tensor in named:
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point() or tensor.ndim == 0 \
                or tensor.numel() == 0:
            continue
        bad = ~torch.isfinite(tensor)
        if not bool(bad.any()):
            continue
        first = [int(i) for i in bad.nonzero()[0]]
        value = tensor[tuple(first)].item()
        place = f"{rows} {first[0]}"
        if len(first) == 2:
            place += f", column {first[1]}"
        elif len(first) > 2:
            place += f", position {tuple(first[1:])}"
        raise EngineError(f"the {split} split's {label} holds {int(bad.sum())} non-finite value(s), the first "
                          f"{value} at {place}", where=WHERE,
                          fix="clean those rows in the data function (drop them, or fill them with finite values)")


def _same_widths(widths: dict[str, dict[str, int]]) -> None:
    train = widths.get("train", {})
    for split in ("val", "test"):
        for label, width in widths.get(split, {}).items():
            if label in train and train[label] != width:
                raise EngineError(f"the {split} split's {label} has {width} columns, the train split's "
                                  f"{train[label]}", where=WHERE,
                                  fix=f"give the {split} rows the same columns as the training rows")
