"""Checking torch.distributed.checkpoint files read back from a checkpoint before DCP loads them.

DCP's ``.metadata`` is a pickle, and ``FileSystemReader`` unpickles it with ``pickle.load``:
a crafted checkpoint could name any callable there and have it run. Every metadata file is
first unpickled here with only DCP's own record classes, torch dtypes, sizes and layouts, and
paths allowed, and every file its records point at must be one of the checkpoint's own files;
DCP then reads bytes that are known to hold nothing else.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import pickle
from typing import Any

#: DCP's modules whose dataclasses and enums a metadata file holds.
_RECORD_MODULES = frozenset({"torch.distributed.checkpoint.metadata", "torch.distributed.checkpoint.filesystem"})
_PLAIN = {("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"),
          ("torch.serialization", "_get_layout"), ("torch", "Size")}
_PATHS = frozenset({"Path", "PosixPath", "PurePath", "PurePosixPath", "WindowsPath", "PureWindowsPath"})


class DamagedShardsError(ValueError):
    """DCP files that name code to run or a file outside the checkpoint."""


def is_plain_file_name(name: object) -> bool:
    """One path segment: not empty, ``.`` or ``..``, no separator."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and "\0" not in name)


def check_files(files: dict[str, bytes]) -> None:
    """Raise :class:`DamagedShardsError` unless every name is a plain file name and every
    metadata file unpickles with DCP's records only, pointing at files among ``files``."""
    check_stored(set(files), {name: data for name, data in files.items() if name.endswith(".metadata")})


def check_stored(names: set[str], metadata: dict[str, bytes]) -> None:
    """:func:`check_files` for a checkpoint whose files are ``names`` and whose metadata files
    hold ``metadata`` (the shards themselves need not be in memory)."""
    for name in names | set(metadata):
        if not is_plain_file_name(name):
            raise DamagedShardsError(f"it names a file outside the checkpoint ({name!r})")
    for name, data in metadata.items():
        _check_metadata(name, data, names)


def _check_metadata(name: str, data: bytes, present: set[str]) -> None:
    try:
        metadata = _RecordsOnly(io.BytesIO(data)).load()
    except DamagedShardsError:
        raise
    except Exception as exc:
        raise DamagedShardsError(f"{name} is not a DCP metadata file ({type(exc).__name__}: {exc})") from None
    storage = getattr(metadata, "storage_data", None) or {}
    for info in storage.values() if isinstance(storage, dict) else ():
        relative = getattr(info, "relative_path", None)
        if not is_plain_file_name(relative) or relative not in present:
            raise DamagedShardsError(f"{name} points at {relative!r}, not a file of the checkpoint")


class _RecordsOnly(pickle.Unpickler):
    """An unpickler that builds DCP metadata records and nothing else (no module is imported
    for a name it does not allow)."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _RECORD_MODULES:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and (dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)):
                return found
        elif (module, name) in _PLAIN:
            return super().find_class(module, name)
        elif module == "torch":
            import torch

            found = getattr(torch, name, None)
            if isinstance(found, (torch.dtype, torch.layout, torch.memory_format)):
                return found
        elif module == "pathlib" and name in _PATHS:
            return getattr(importlib.import_module("pathlib"), name)
        raise DamagedShardsError(f"its metadata names {module}.{name}, which is no part of a DCP checkpoint")

