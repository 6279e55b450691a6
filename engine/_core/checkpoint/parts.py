"""Files a participant stores in a checkpoint itself, on every process, beside its state.

A sharded model is saved by every process at once: each one writes its own shard files
straight into the checkpoint (the storage's optional ``write_part``) instead of passing them
through the main process's memory. While participants' ``state_dict`` or ``load_state_dict``
runs, :func:`current_checkpoint` says which checkpoint that is and where it lives. The
participant puts a :class:`StoredParts` into its state on the main process: the checkpoint
manager waits for it (in the background when asynchronous), lists every part with its size
and checksum in the manifest, and only then commits (the storage's ``commit``). A save whose
parts are not all stored raises there, and nothing is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import attrs

from engine._core.checkpoint.manifest import is_plain_name

#: A part's manifest entry: ``{"size": int, "sha256": str}``.
PartEntry = dict[str, Any]
_CHUNK = 1 << 20


@attrs.frozen
class CurrentCheckpoint:
    """The checkpoint being saved or loaded, as participants see it.

    ``storage`` is the run's checkpoint storage and ``name`` the checkpoint's folder there;
    ``owner`` identifies the process that commits it (pass it to ``write_part``);
    ``asynchronous`` says whether the run saves in the background; ``parts`` (when loading)
    is the manifest's size and checksum of every part file.
    """

    storage: Any
    name: str
    owner: int = 0
    asynchronous: bool = False
    parts: dict[str, PartEntry] = attrs.field(factory=dict)

    @property
    def stores_parts(self) -> bool:
        """Whether the storage takes part files from every process (``write_part``/``commit``)."""
        return all(callable(getattr(self.storage, method, None))
                   for method in ("write_part", "read_part", "commit", "discard"))

    def store(self, file: str, source: Path) -> PartEntry:
        """Store the local file ``source`` as part ``file`` (not yet committed); its entry."""
        if not is_plain_name(file):
            raise ValueError(f"{file!r} is not a checkpoint file name")
        entry = file_entry(source)
        self.storage.write_part(self.name, file, source, owner=self.owner)
        return entry

    def fetch(self, file: str, target: Path) -> None:
        """Copy part ``file`` to the local path ``target`` and check it against the manifest;
        ``ValueError`` if it is not listed or does not match."""
        expected = self.parts.get(file)
        if expected is None or not is_plain_name(file):
            raise ValueError(f"{file} is not listed in the manifest")
        self.storage.read_part(self.name, file, target)
        found = file_entry(target)
        if found["size"] != expected["size"]:
            raise ValueError(f"{file} has {found['size']} bytes, the manifest says {expected['size']}")
        if found["sha256"] != expected["sha256"]:
            raise ValueError(f"{file} does not match its checksum")


class StoredParts:
    """In a participant's state (on the main process): part files stored with
    :meth:`CurrentCheckpoint.store` by every process.

    ``entries`` is ``{file: {"size", "sha256"}}``, or a callable that returns it once every
    process's parts are durable (it blocks; it raises if a process failed). The checkpoint
    manager calls it where it writes the checkpoint (the background thread when asynchronous),
    before the manifest; what it raises fails the save, and the parts are discarded.
    """

    def __init__(self, entries: dict[str, PartEntry] | Callable[[], dict[str, PartEntry]]):
        self._entries = entries

    def entries(self) -> dict[str, PartEntry]:
        found = self._entries() if callable(self._entries) else self._entries
        for file, entry in found.items():
            if not is_plain_name(file):
                raise ValueError(f"a part names a file outside the checkpoint ({file!r})")
            if not isinstance(entry.get("size"), int) or not isinstance(entry.get("sha256"), str):
                raise ValueError(f"part {file!r} has no size and checksum")
        return dict(found)

    def __bytes__(self) -> bytes:
        """The list of parts as JSON: kept in the participant's state, so it is deferred bytes."""
        return json.dumps(self.entries(), sort_keys=True).encode()


def file_entry(path: Path) -> PartEntry:
    """Size and sha256 of a local file, read in bounded chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def copy_file(source: Path, target: Path) -> None:
    """Copy a local file in bounded chunks (no whole file in memory)."""
    with open(source, "rb") as reading, open(target, "wb") as writing:
        shutil.copyfileobj(reading, writing, _CHUNK)


_current: ContextVar[CurrentCheckpoint | None] = ContextVar("engine_current_checkpoint", default=None)


def current_checkpoint() -> CurrentCheckpoint | None:
    """The checkpoint whose participants' state is being taken or restored now, else ``None``."""
    return _current.get()


@contextlib.contextmanager
def opened(checkpoint: CurrentCheckpoint | None) -> Iterator[None]:
    """Make ``checkpoint`` current for the participants called inside."""
    token = _current.set(checkpoint)
    try:
        yield
    finally:
        _current.reset(token)
