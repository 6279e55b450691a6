"""Labels a classification objective can learn: 0 or 1 for a binary one, 0..num_class-1 otherwise."""

from __future__ import annotations

import numpy as np

from engine import EngineError
from engine_tabular.load import Splits


def check_binary(splits: Splits, *, objective: str, label: str, multiclass: str) -> None:
    """Labels of a binary objective lie in [0, 1]; ``multiclass`` is the fix for more classes,
    written with ``{k}`` for their number (``'objective = "multiclass", num_class = {k}'``)."""
    for table, rows in ((splits.train, "training"), (splits.valid, "validation")):
        outside = (table.label < 0) | (table.label > 1)
        if outside.any():
            classes = _classes(splits)
            raise EngineError(f"objective {objective!r} needs labels 0 and 1, but the {rows} rows of label "
                              f"{label!r} hold {_shown(table.label, table.classes)}",
                              where="backend.params.objective",
                              fix=f"use {multiclass.format(k=classes)}, or relabel the data as 0 and 1")


def check_multiclass(splits: Splits, *, objective: str, label: str, num_class: int) -> None:
    """Labels of a multi-class objective are whole numbers 0..num_class-1."""
    for table, rows in ((splits.train, "training"), (splits.valid, "validation")):
        values = table.label
        outside = (values < 0) | (values >= num_class) | (values != np.floor(values))
        if outside.any():
            raise EngineError(f"objective {objective!r} with num_class = {num_class} needs labels 0..{num_class - 1}, "
                              f"but the {rows} rows of label {label!r} hold {_shown(values, table.classes)}",
                              where="backend.params.num_class",
                              fix=f"set num_class = {_classes(splits)}, or relabel the data")


def _classes(splits: Splits) -> int:
    values = np.concatenate([splits.train.label, splits.valid.label])
    return max(len(np.unique(values)), int(values.max()) + 1 if len(values) and values.min() >= 0 else 0)


def _shown(values: np.ndarray, names: list[str]) -> str:
    distinct = np.unique(values)
    shown = [names[int(v)] if names and 0 <= v < len(names) else v.item() for v in distinct[:5]]
    more = ", ..." if len(distinct) > 5 else ""
    return f"{len(distinct)} distinct values ({', '.join(map(repr, shown))}{more})"
