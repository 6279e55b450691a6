"""Text files to tokenised datasets (``datasets``' ``load_dataset`` and ``map``), padded per batch
by the tokenizer's collator.

A file is read with ``datasets``' csv/json/parquet builder (local paths and fsspec URLs), its
text column(s) tokenised once with ``map`` (cached under the cache folder: a resumed run, or a
second run with the same data and tokenizer, reuses the tokens). A file that already holds an
``input_ids`` column is taken as tokenised. A batch is padded to its own longest row by
``DataCollatorWithPadding``.
"""

from __future__ import annotations

from typing import Any

import torch

from engine import EngineError
from engine_transformers.options import TextDataOptions

WHERE = "backend.data"
#: Columns a model takes, kept from a tokenised table (the rest are dropped).
MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels")


def file_format(source: str, declared: str) -> str:
    """``csv``, ``json`` or ``parquet`` for ``source`` (its extension, unless declared)."""
    if declared != "auto":
        return declared
    name = source.lower().split("?", 1)[0]
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith((".json", ".jsonl")):
        return "json"
    raise EngineError(f"cannot tell the format of {source!r} from its name", where=f"{WHERE}.format",
                      fix='set it to "csv", "json" or "parquet"')


def read_table(source: str, options: TextDataOptions, cache_dir: str | None, where: str) -> Any:
    """The rows of ``source`` as a ``datasets.Dataset``; a missing or unreadable file is one line."""
    import datasets

    fmt = file_format(source, options.format)
    extra: dict[str, Any] = {}
    if fmt == "csv" and source.lower().split("?", 1)[0].removesuffix(".gz").endswith(".tsv"):
        extra["sep"] = "\t"
    try:
        return datasets.load_dataset(fmt, data_files={"rows": source}, split="rows", cache_dir=cache_dir,
                                     storage_options=options.storage_options or None, **extra)
    except FileNotFoundError:
        raise EngineError(f"cannot read {source!r}: no such file", where=where,
                          fix="check the path (relative paths start from the current directory)") from None
    except (ValueError, OSError, datasets.exceptions.DatasetGenerationError) as exc:
        cause = exc.__cause__ or exc
        raise EngineError(f"cannot read {source!r} as {fmt}: {' '.join(str(cause).split())[:300]}", where=where,
                          fix=f"point to a {fmt} file with a header row, or set format") from None


def tokenised(table: Any, tokenizer: Any, options: TextDataOptions, where: str, *, num_labels: int | None) -> Any:
    """``table`` with ``input_ids`` (and the tokenizer's other inputs) and ``labels`` only."""
    columns = set(table.column_names)
    if options.label not in columns:
        raise EngineError(f"no label column {options.label!r} (columns: {', '.join(sorted(columns))})",
                          where=f"{WHERE}.label", fix="set label to the column of classes")
    if "input_ids" not in columns:
        texts = [options.text, *([options.text_pair] if options.text_pair else [])]
        for key, name in zip(("text", "text_pair"), texts, strict=False):
            if name not in columns:
                raise EngineError(f"no {key} column {name!r} (columns: {', '.join(sorted(columns))})",
                                  where=f"{WHERE}.{key}", fix=f"set {key} to the column that holds the text")
        truncation: dict[str, Any] = {"truncation": True}
        if options.max_length is not None:
            truncation["max_length"] = options.max_length

        def tokenise(rows: dict[str, list[Any]]) -> Any:
            return tokenizer(*(rows[name] for name in texts), **truncation)

        table = table.map(tokenise, batched=True, desc=None)
    if options.label != "labels":
        if "labels" in table.column_names:
            table = table.remove_columns("labels")
        table = table.rename_column(options.label, "labels")
    _check_labels(table, where, num_labels)
    return table.remove_columns([c for c in table.column_names if c not in MODEL_COLUMNS])


def _check_labels(table: Any, where: str, num_labels: int | None) -> None:
    kind = table.features["labels"]
    dtype = getattr(kind, "dtype", "")
    if dtype.startswith(("int", "uint")) and num_labels and len(table):
        import pyarrow.compute as pc

        extremes = pc.min_max(table.data.column("labels"))
        low, high = int(extremes["min"].as_py()), int(extremes["max"].as_py())
        if low < 0 or high >= num_labels:
            raise EngineError(f"labels run from {low} to {high}, outside 0..{num_labels - 1}", where=where,
                              fix=f"set model.num_labels = {high + 1}, or relabel the data")
    elif dtype not in ("float32", "float64") and not dtype.startswith(("int", "uint")):
        raise EngineError(f"the label column holds {dtype or type(kind).__name__} values, not class numbers",
                          where=f"{WHERE}.label", fix="write the classes as 0..num_labels-1")


class TokenisedTexts(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """A tokenised table whose batches are padded to their longest row by ``collator``.

    ``__getitems__`` reads a batch's rows in one call and pads them together (the torch
    backend's batching then stacks the padded rows back into the batch); :meth:`batch` gives
    the padded batch itself, which the backend fetches directly where it can.
    """

    def __init__(self, table: Any, collator: Any):
        self.table = table
        self.collator = collator

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: list[int]) -> list[dict[str, torch.Tensor]]:
        batch = self.batch(indices)
        keys = list(batch)
        return [dict(zip(keys, row, strict=True)) for row in zip(*(batch[k].unbind(0) for k in keys), strict=True)]

    def batch(self, indices: list[int]) -> dict[str, torch.Tensor]:
        """Rows ``indices`` as one padded batch (a dict of tensors, batch first)."""
        columns = self.table[indices]
        keys = list(columns)
        return dict(self.collator([dict(zip(keys, row, strict=True)) for row in zip(*columns.values(), strict=True)]))
