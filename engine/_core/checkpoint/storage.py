"""Where checkpoint bytes go: the storage protocol and the built-in local directory."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from engine._core.checkpoint.manifest import MANIFEST, is_plain_name
from engine._core.errors import CheckpointError, EngineError
from engine._core.processes import process_alive


@runtime_checkable
class CheckpointStorage(Protocol):
    """A place that holds checkpoint directories by name.

    ``write`` must make a checkpoint visible to ``list`` only once all of it is stored:
    every file first, the manifest last (or an atomic rename of the whole directory).
    """

    url: str

    def list(self) -> list[str]:
        """Names of the checkpoint directories present, committed or not."""

    def write(self, name: str, files: dict[str, bytes], manifest: bytes) -> None:
        """Store ``files`` under ``name``, then commit with ``manifest``."""

    def read(self, name: str, file: str) -> bytes:
        """The bytes of one file; ``FileNotFoundError`` if it is absent."""

    def delete(self, name: str) -> None:
        """Remove checkpoint ``name`` and everything in it."""

    def location(self, name: str) -> str:
        """A URL or path for humans and logs (no credentials)."""

    # Optional: ``restore_run_directory(directory: Path) -> bool``. A storage that keeps a copy
    # of the run directory too (engine-fsspec's ``mirror_run_dir``) writes it back to
    # ``directory`` when a run resumes on a machine that lacks it, and returns whether it did.
    #
    # Optional: ``probe() -> None``: write and remove a marker, leaving nothing behind; raise if
    # the storage cannot be written. ``engine check`` calls it (see :func:`check_writable`).
    #
    # Optional, all four or none: part files stored by every process of a run (a sharded
    # model's shards, see :mod:`engine._core.checkpoint.parts`), committed by one:
    # ``write_part(name, file, source: Path, *, owner: int)`` stores the local file ``source``
    # as ``file`` of checkpoint ``name``, invisible to ``list`` readers until committed (any
    # process may call it; ``owner`` is the committing process's id, the same for all);
    # ``commit(name, files, manifest, *, owner: int)`` is ``write`` keeping the parts stored for
    # ``name``; ``discard(name, *, owner: int)`` removes uncommitted parts of ``name``;
    # ``read_part(name, file, target: Path)`` copies a stored file to the local path ``target``.
    # Each streams the file (bounded memory).


def check_writable(storage: CheckpointStorage) -> None:
    """Refuse a storage that cannot be written, where it can tell (its optional ``probe()``)."""
    probe = getattr(storage, "probe", None)
    if not callable(probe):
        return
    try:
        probe()
    except EngineError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CheckpointError(f"cannot write checkpoints to {storage.url}: {type(exc).__name__}: {reason}",
                              where="checkpoint.storage",
                              fix="choose a storage this user can write, or free space on it") from None


@contextlib.contextmanager
def removing_new_folders(path: Path) -> Iterator[None]:
    """Remove again, on the way out, the (empty) folders on the way to ``path`` made inside."""
    missing = []
    folder = path.absolute()
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        yield
    finally:
        for made in missing:
            with contextlib.suppress(OSError):
                made.rmdir()


@attrs.define
class LocalStorageOptions:
    """The built-in storage: a local directory, each checkpoint committed by an atomic rename."""

    url: str = ""
    fsync: bool = True
    """Flush files to disk before the rename commits them (survives power loss, not only kills)."""


class LocalStorage:
    """Checkpoints in a local directory; a checkpoint appears whole or not at all."""

    def __init__(self, options: LocalStorageOptions):
        self.options = options
        self.url = options.url
        self.root = Path(options.url.removeprefix("file://"))

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        # a symlink is not a checkpoint of this root: it may point anywhere
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))

    def write(self, name: str, files: dict[str, bytes], manifest: bytes) -> None:
        """Write into a hidden folder, then rename it into place; a failed write removes it at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        partial = self.root / f".{name}.partial-{os.getpid()}"
        try:
            if partial.exists():
                shutil.rmtree(partial)
            partial.mkdir()
            self._publish(name, partial, files, manifest)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self._sync_dir(self.root)

    def read(self, name: str, file: str) -> bytes:
        return (self.root / name / file).read_bytes()

    # ------------------------------------------------------------------ parts from every process

    def write_part(self, name: str, file: str, source: Path, *, owner: int) -> None:
        """Move ``source`` into the hidden folder ``commit`` will rename into place.

        The folder carries the committing process's id, so a folder left by a killed save is
        removed as abandoned like any other.
        """
        if not is_plain_name(name) or not is_plain_name(file):
            raise ValueError(f"{name}/{file} is not a checkpoint file name")
        partial = self._parts_folder(name, owner)
        partial.mkdir(parents=True, exist_ok=True)
        target = partial / file
        shutil.move(source, target)  # a rename on the same filesystem, else a chunked copy
        if self.options.fsync:
            with open(target, "rb") as handle:
                os.fsync(handle.fileno())

    def commit(self, name: str, files: dict[str, bytes], manifest: bytes, *, owner: int) -> None:
        """Add ``files`` and the manifest to the parts of ``name``, then rename the folder into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        partial = self._parts_folder(name, owner)
        try:
            partial.mkdir(exist_ok=True)
            if self.options.fsync:
                self._sync_dir(partial)
            self._publish(name, partial, files, manifest)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        self._sync_dir(self.root)

    def discard(self, name: str, *, owner: int) -> None:
        shutil.rmtree(self._parts_folder(name, owner), ignore_errors=True)

    def read_part(self, name: str, file: str, target: Path) -> None:
        if not is_plain_name(name) or not is_plain_name(file):
            raise ValueError(f"{name}/{file} is not a checkpoint file name")
        source = self.root / name / file
        if source.is_symlink():
            raise FileNotFoundError(f"{source} is a link, not a file of the checkpoint")
        with open(source, "rb") as reading, open(target, "wb") as writing:
            shutil.copyfileobj(reading, writing, 1 << 20)

    def _parts_folder(self, name: str, owner: int) -> Path:
        return self.root / f".{name}.partial-{owner}"

    def _publish(self, name: str, partial: Path, files: dict[str, bytes], manifest: bytes) -> None:
        for file, data in files.items():
            self._write_file(partial / file, data)
        self._write_file(partial / MANIFEST, manifest)
        final = self.root / name
        if final.exists():
            stale = self.root / f".{name}.replaced-{os.getpid()}"
            final.rename(stale)
            shutil.rmtree(stale)
        partial.rename(final)

    def delete(self, name: str) -> None:
        """Remove folder ``name`` of the root; a symlink there is removed, never followed."""
        if not is_plain_name(name):
            raise ValueError(f"{name!r} is not a checkpoint folder name")
        target = self.root / name
        if target.is_symlink():
            target.unlink()
        elif target.exists():
            doomed = self.root / f".{name}.deleting-{os.getpid()}"
            target.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    def location(self, name: str) -> str:
        return str(self.root / name)

    def probe(self) -> None:
        """Write and remove a small file in the root; raise ``OSError`` if that fails.

        Leaves nothing behind: folders made for the probe are removed again.
        """
        with removing_new_folders(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            folder = self.root / f".probe-{os.getpid()}"  # a dead prober's is an abandoned folder
            try:
                folder.mkdir(exist_ok=True)
                self._write_file(folder / "probe", b"engine storage probe\n")
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    def _remove_abandoned(self) -> None:
        """Delete hidden folders left by a process killed mid-save or mid-delete (never committed)."""
        for path in self.root.glob(".*-[0-9]*"):
            pid = path.name.rpartition("-")[2]
            if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)

    def _write_file(self, path: Path, data: bytes) -> None:
        with open(path, "wb") as handle:
            handle.write(data)
            if self.options.fsync:
                handle.flush()
                os.fsync(handle.fileno())

    def _sync_dir(self, path: Path) -> None:
        if not self.options.fsync:
            return
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
