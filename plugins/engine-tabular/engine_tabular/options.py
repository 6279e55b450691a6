"""``[backend.data]``: where the rows come from and what each column means (attrs only)."""

from __future__ import annotations

from typing import Any, Literal

import attrs


@attrs.define
class TabularDataOptions:
    """Tabular data: a CSV or Parquet file (local path or fsspec URL) or an import path."""

    train: str
    """``data/train.csv``, ``s3://bucket/train.parquet``, ``https://...``, or an import path
    ``package.module:function`` returning a DataFrame, ``(X, y)``, or ``{"train": ..., "valid": ..., "test": ...}``."""
    valid: str = ""
    """Validation data, same forms as ``train``. Default: a seeded ``val_fraction`` split of ``train``."""
    test: str = ""
    """Held-out test data, same forms as ``train``: evaluated once at the end of the run
    (``test/<metric>``). With ``[cv]`` it stays whole; only ``train`` is folded."""
    label: str = "label"
    """Name of the label column."""
    weight: str = ""
    """Name of a sample-weight column, if any."""
    group: str = ""
    """Name of a query/group id column for ranking (rows of a group must be contiguous)."""
    categorical: list[str] = attrs.field(factory=list)
    """Columns to treat as categorical (pandas ``category`` dtype)."""
    drop: list[str] = attrs.field(factory=list)
    """Columns to ignore (ids, leaks)."""
    val_fraction: float = 0.2
    """Share of ``train`` held out for validation when ``valid`` is not given (0 < f < 1)."""
    format: Literal["auto", "csv", "parquet"] = "auto"
    """File format; ``auto`` goes by the extension (``.csv``, ``.tsv``, ``.parquet``, ``.pq``)."""
    read_options: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments for ``pandas.read_csv`` / ``pandas.read_parquet``."""
    storage_options: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments for ``fsspec.open`` (credentials, endpoints)."""
    args: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments for an import-path data function."""
