"""Participant state as files: JSON for values, raw files for ``bytes``; never pickle."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BLOB = "__bytes__"
_FLOAT = "__float__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_stem(participant: str) -> str:
    """A file-name-safe stem for a participant name such as ``tracker:tensorboard``."""
    return _UNSAFE.sub("_", participant)


def encode(participant: str, state: dict[str, Any]) -> dict[str, bytes]:
    """Files holding ``state``: ``<stem>.json`` plus one ``<stem>.<n>.bin`` per bytes value."""
    stem = file_stem(participant)
    files: dict[str, bytes] = {}

    def convert(value: Any, path: str) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            name = f"{stem}.{len(files)}.bin"
            files[name] = bytes(value)
            return {_BLOB: name}
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
            "use JSON values or bytes"
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
