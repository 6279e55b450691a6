"""Reading a data source into a DataFrame: CSV/Parquet through fsspec, or an import path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from engine import EngineError, resolve_import_path
from engine_tabular.options import TabularDataOptions

_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def is_import_path(source: str) -> bool:
    """``package.module:function`` (no slash, no URL scheme) rather than a file."""
    return bool(_IMPORT_PATH.match(source)) and "/" not in source


def one_line(text: str) -> str:
    """Collapse a (library) message to one line."""
    return " ".join(str(text).split())


def call_source(source: str, args: Mapping[str, Any], where: str) -> Any:
    """Resolve an import path and call it (or take it as is, if it is not callable)."""
    target = resolve_import_path(source, what=where)
    if not callable(target):
        return target
    try:
        return target(**args)
    except Exception as exc:
        import traceback

        from engine import UserCodeError

        raise UserCodeError(f"{where}: {source!r} raised {type(exc).__name__}: {one_line(str(exc))}",
                            user_traceback=traceback.format_exc()) from None


def _format_of(source: str, declared: str) -> str:
    if declared != "auto":
        return declared
    name = source.lower().split("?", 1)[0]
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        name = name.removesuffix(suffix)
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise EngineError(f"cannot tell the format of {source!r} from its name",
                      where="backend.data.format", fix="set it to \"csv\" or \"parquet\"")


def read_file(source: str, options: TabularDataOptions, where: str) -> pd.DataFrame:
    """Read a CSV or Parquet file through fsspec; every failure is one line naming the file."""
    import fsspec

    fmt = _format_of(source, options.format)
    read_options = dict(options.read_options)
    if fmt == "csv" and source.lower().split("?", 1)[0].endswith((".tsv", ".tsv.gz")):
        read_options.setdefault("sep", "\t")
    try:
        with fsspec.open(source, "rb", compression="infer", **options.storage_options) as handle:
            if fmt == "parquet":
                return pd.read_parquet(handle, **read_options)
            return pd.read_csv(handle, **read_options)
    except EngineError:
        raise
    except FileNotFoundError:
        raise EngineError(f"cannot read {source!r}: no such file", where=where,
                          fix="check the path (relative paths start from the current directory)") from None
    except pd.errors.EmptyDataError:
        raise EngineError(f"{source!r} is empty", where=where, fix="point to a file with a header and rows") from None
    except pd.errors.ParserError as exc:
        raise EngineError(_parser_message(source, str(exc)), where=where,
                          fix="make every row have as many fields as the header") from None
    except ImportError as exc:
        extra = "parquet" if fmt == "parquet" else "http"
        raise EngineError(f"cannot read {source!r}: {one_line(str(exc))}", where=where,
                          fix=f"pip install 'engine-tabular[{extra}]'") from None
    except Exception as exc:
        raise EngineError(f"cannot read {source!r}: {type(exc).__name__}: {one_line(str(exc))}", where=where,
                          fix="check the path or URL, that it is reachable, and backend.data.storage_options"
                          ) from None


def _parser_message(source: str, text: str) -> str:
    found = _RAGGED.search(text)
    if found:
        expected, line, saw = found.groups()
        return f"{source!r} line {line} has {saw} fields, the header has {expected}"
    return f"cannot parse {source!r}: {one_line(text)}"


def to_frame(value: Any, label: str, where: str) -> pd.DataFrame:
    """A DataFrame from what a data function returned: a DataFrame or ``(X, y)``."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        features, target = value
        frame = features.copy() if isinstance(features, pd.DataFrame) else pd.DataFrame(
            features, columns=[f"f{i}" for i in range(_width(features))])
        frame[label] = pd.Series(target).to_numpy()
        return frame
    raise EngineError(f"the data function returned {type(value).__name__}", where=where,
                      fix="return a DataFrame, (X, y), or {'train': ..., 'valid': ..., 'test': ...}")


def _width(features: Any) -> int:
    shape = getattr(features, "shape", None)
    if shape is None or len(shape) != 2:
        raise EngineError("the data function's X is not two-dimensional", fix="return X with shape (rows, columns)")
    return int(shape[1])


def read_source(source: str, options: TabularDataOptions, where: str) -> dict[str, pd.DataFrame]:
    """``{"train": frame}`` or, when a data function returns more, ``{"train": ..., "valid": ..., "test": ...}``."""
    if not is_import_path(source):
        return {"train": read_file(source, options, where)}
    value = call_source(source, options.args, where)
    if isinstance(value, Mapping):
        unknown = set(value) - {"train", "valid", "test"}
        if "train" not in value or unknown:
            raise EngineError(f"{source!r} returned a mapping with keys {sorted(value)}", where=where,
                              fix="return {'train': ..., 'valid': ..., 'test': ...} ('valid' and 'test' are optional)")
        return {key: to_frame(part, options.label, where) for key, part in value.items()}
    return {"train": to_frame(value, options.label, where)}
