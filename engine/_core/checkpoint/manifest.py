"""The manifest: written last, it commits a checkpoint and lists every file's size and checksum."""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from typing import Any

import attrs

MANIFEST = "MANIFEST.json"
FORMAT = "engine-checkpoint/1"


@attrs.frozen
class CheckpointInfo:
    """A committed checkpoint, as its manifest describes it."""

    name: str
    url: str
    step: int
    epoch: int
    metrics: dict[str, float]
    files: dict[str, dict[str, Any]]
    created: float
    #: Files processes stored themselves (a sharded model's shards), each with its size and
    #: sha256; the participant that stored them reads and checks them (see ``StoredParts``).
    parts: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    @property
    def size(self) -> int:
        return sum(int(f["size"]) for f in (*self.files.values(), *self.parts.values()))


def build_manifest(name: str, step: int, epoch: int, metrics: dict[str, float],
                   files: dict[str, bytes], parts: dict[str, dict[str, Any]] | None = None) -> bytes:
    document: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "step": step,
        "epoch": epoch,
        "metrics": metrics,
        "created": time.time(),
        "files": {
            file: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for file, data in sorted(files.items())
        },
    }
    if parts:
        document["parts"] = {file: {"size": entry["size"], "sha256": entry["sha256"]}
                             for file, entry in sorted(parts.items())}
    return json.dumps(document, indent=1, allow_nan=True).encode()


class ElsewhereError(ValueError):
    """A manifest that names a place outside its own checkpoint folder: a damaged checkpoint."""


def is_plain_name(name: object) -> bool:
    """Whether ``name`` is one path segment: not empty, ``.`` or ``..``, no separator, no
    control character. Checkpoint folders and the files in them have such names."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name
            and "\\" not in name and not any(unicodedata.category(char) == "Cc" for char in name))


def parse_manifest(data: bytes, url: str) -> CheckpointInfo:
    """Read a manifest; raises ``ValueError`` if it is not one, :class:`ElsewhereError` if it
    names a checkpoint or a file that would lie outside its folder."""
    document = json.loads(data)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("not an engine checkpoint manifest")
    name, files = document["name"], dict(document["files"])
    parts = dict(document.get("parts", {}))
    if not is_plain_name(name):
        raise ElsewhereError(f"its manifest names another place ({name!r})")
    if set(parts) & set(files):
        raise ValueError("its manifest lists a file both as state and as a part")
    for file, entry in (*files.items(), *parts.items()):
        if not is_plain_name(file):
            raise ElsewhereError(f"its manifest lists a file in another place ({file!r})")
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int) \
                or not isinstance(entry.get("sha256"), str):
            raise ValueError(f"its manifest has no size and checksum for {file!r}")
    return CheckpointInfo(
        name=name, url=url, step=int(document["step"]), epoch=int(document["epoch"]),
        metrics=dict(document.get("metrics", {})), files=files,
        created=float(document.get("created", 0.0)), parts=parts,
    )


def verify(info: CheckpointInfo, file: str, data: bytes) -> None:
    """Raise ``ValueError`` if ``data`` is not what the manifest recorded for ``file``."""
    expected = info.files.get(file)
    if expected is None:
        raise ValueError(f"{file} is not listed in the manifest")
    if len(data) != expected["size"]:
        raise ValueError(f"{file} has {len(data)} bytes, the manifest says {expected['size']}")
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise ValueError(f"{file} does not match its checksum")
