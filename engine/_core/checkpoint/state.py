"""Participant state as files: JSON for values, raw files for ``bytes``; never pickle.

A value may also be *deferred* bytes: an object that is not bytes-like but has
``__bytes__`` (:class:`typing.SupportsBytes`). It is a private host copy that becomes bytes
later, in the background; the participant must not change it after ``state_dict`` returns.
:func:`encode` keeps it as it is among the files, and :func:`materialize` turns it into bytes
(the checkpoint manager does so when it writes, before any checksum).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from typing import Any, SupportsBytes, TypeGuard

#: A checkpoint file's content: bytes, or a deferred value that becomes bytes when written.
FileData = bytes | SupportsBytes

_BLOB = "__bytes__"
_FLOAT = "__float__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_stem(participant: str) -> str:
    """A file-name-safe stem for a participant name such as ``tracker:tensorboard``."""
    return _UNSAFE.sub("_", participant)


def is_deferred(value: object) -> TypeGuard[SupportsBytes]:
    """Whether ``value`` is deferred bytes: not bytes-like, but with ``__bytes__``.

    Paths have ``__bytes__`` too but are not state copies: they stay unstorable.
    """
    return (hasattr(type(value), "__bytes__")
            and not isinstance(value, (bytes, bytearray, memoryview, os.PathLike)))


def materialize(files: Mapping[str, FileData]) -> dict[str, bytes]:
    """``files`` with every deferred value turned into bytes (in the calling thread)."""
    return {name: data if isinstance(data, bytes) else bytes(data) for name, data in files.items()}


def encode(participant: str, state: dict[str, Any]) -> dict[str, FileData]:
    """Files holding ``state``: ``<stem>.json`` plus one ``<stem>.<n>.bin`` per bytes value.

    A deferred value is kept as it is (not turned into bytes here).
    """
    stem = file_stem(participant)
    files: dict[str, FileData] = {}

    def blob(data: FileData) -> dict[str, str]:
        name = f"{stem}.{len(files)}.bin"
        files[name] = data
        return {_BLOB: name}

    def convert(value: Any, path: str) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return blob(bytes(value))
        if is_deferred(value):
            return blob(value)
        if isinstance(value, float) and not math.isfinite(value):
            return {_FLOAT: repr(value)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(f"state of {participant!r} at {path}: keys must be strings, got {key!r}")
                out[key] = convert(item, f"{path}.{key}")
            return out
        if isinstance(value, (list, tuple)):
            return [convert(item, f"{path}[{i}]") for i, item in enumerate(value)]
        raise TypeError(
            f"state of {participant!r} at {path}: {type(value).__name__} is not storable; "
            "use JSON values, bytes, or an object with __bytes__"
        )

    document = convert(state, "state")
    files[f"{stem}.json"] = json.dumps(document, separators=(",", ":")).encode()
    return files


def decode(participant: str, read: Any) -> dict[str, Any]:
    """Rebuild a participant's state; ``read(name)`` returns the bytes of a checkpoint file."""
    stem = file_stem(participant)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {_BLOB}:
                return read(value[_BLOB])
            if set(value) == {_FLOAT}:
                return float(value[_FLOAT])
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    result: dict[str, Any] = convert(json.loads(read(f"{stem}.json")))
    return result
