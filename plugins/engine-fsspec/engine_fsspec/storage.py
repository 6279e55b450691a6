"""The ``fsspec`` storage: checkpoint directories at any fsspec URL, committed by a manifest.

Commit protocol, for object stores without renames: every part is written first and the
manifest last (one PUT, so it appears whole or not at all); a directory without a manifest
is an interrupted save that readers skip. Re-writing a checkpoint removes its manifest
first, and deleting one removes its manifest first, so a crash at any point leaves either a
committed checkpoint whose files all match their checksums, or an uncommitted one.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from engine import (
    EXIT_FAILED,
    MANIFEST,
    REDACTED,
    CheckpointError,
    EngineError,
    is_plain_name,
    removing_new_folders,
    write_atomic,
)
from engine_fsspec import urls
from engine_fsspec.isolation import isolate_random
from engine_fsspec.options import FsspecStorageOptions
from engine_fsspec.retry import Backoff, GaveUpError, call
from engine_fsspec.run_dir import RUN_FOLDER, safe_relative

T = TypeVar("T")


class StorageError(CheckpointError):
    """A storage operation failed (after retrying transient errors): exit status 1, not the spec's fault."""

    exit_code = EXIT_FAILED


class FsspecStorage:
    """Checkpoints under one fsspec URL; see the module docstring for the commit protocol."""

    def __init__(self, options: FsspecStorageOptions):
        problem = urls.url_problem(options.url)
        if problem:
            raise EngineError(problem, where="checkpoint.storage")
        self.options = options
        #: The URL without credentials: what logs, warnings and manifests' readers see.
        self.url = urls.public(options.url)
        self.backoff = Backoff(options.attempts, options.backoff, options.backoff_max)
        self.fs, self.root = _filesystem(options)

    # ------------------------------------------------------------------ the storage protocol

    def list(self) -> list[str]:
        def names() -> list[str]:
            self.fs.invalidate_cache(self.root)
            try:
                entries = self.fs.ls(self.root, detail=True)
            except FileNotFoundError:
                return []
            # a symlink (local filesystems) is not a checkpoint of this root: it may point anywhere
            return [str(e["name"]).rstrip("/").rsplit("/", 1)[-1] for e in entries
                    if e.get("type") == "directory" and not e.get("islink")]

        return sorted(name for name in self._call(names, "listing", self.url) if not name.startswith("."))

    def write(self, name: str, files: dict[str, bytes], manifest: bytes) -> None:
        """Every part, then the manifest; a write that fails removes the parts it stored (once,
        without retrying: what an outage leaves is uncommitted, and readers skip it)."""
        folder = urls.join(self.root, name)
        if urls.protocols(self.options.url)[-1] in ("file", "local"):
            # a leftover folder (or a symlink in its place) may hold links out: remove it whole,
            # following none, so that nothing below is written through one
            self._call(lambda: self._remove(folder, recursive=True), "uncommitting", self.location(name))
        else:
            self._call(lambda: self._remove(urls.join(folder, MANIFEST)), "uncommitting", self.location(name))
        try:
            for file, data in files.items():
                path = urls.join(folder, file)
                self._call(functools.partial(self.fs.pipe_file, path, data), "writing", self.location(name, file))
            self._call(lambda: self.fs.pipe_file(urls.join(folder, MANIFEST), manifest), "committing",
                       self.location(name, MANIFEST))
        except BaseException:
            with contextlib.suppress(Exception):
                self._remove(urls.join(folder, MANIFEST))  # a commit that may have landed first
                self._remove(folder, recursive=True)
            raise

    # ------------------------------------------------------------------ parts from every process

    def write_part(self, name: str, file: str, source: Path, *, owner: int) -> None:
        """Upload the local file ``source`` as ``file`` of ``name`` (streamed, multipart where the
        filesystem does so); the checkpoint's manifest is removed first, so it stays uncommitted."""
        if not is_plain_name(name) or not is_plain_name(file):
            raise ValueError(f"{name}/{file} is not a checkpoint file name")
        folder = urls.join(self.root, name)
        self._call(lambda: self._remove(urls.join(folder, MANIFEST)), "uncommitting", self.location(name))
        self._unlink_planted_links(f"{name}/{file}")
        self._call(functools.partial(self.fs.put_file, str(source), urls.join(folder, file)), "writing",
                   self.location(name, file))

    def commit(self, name: str, files: dict[str, bytes], manifest: bytes, *, owner: int) -> None:
        """Every file, then the manifest, beside the parts already stored for ``name``; a
        commit that fails removes the whole checkpoint (it was never committed)."""
        folder = urls.join(self.root, name)
        try:
            for file, data in files.items():
                self._unlink_planted_links(f"{name}/{file}")
                self._call(functools.partial(self.fs.pipe_file, urls.join(folder, file), data), "writing",
                           self.location(name, file))
            self._unlink_planted_links(f"{name}/{MANIFEST}")
            self._call(lambda: self.fs.pipe_file(urls.join(folder, MANIFEST), manifest), "committing",
                       self.location(name, MANIFEST))
        except BaseException:
            with contextlib.suppress(Exception):
                self.discard(name, owner=owner)
            raise

    def discard(self, name: str, *, owner: int) -> None:
        """Remove the uncommitted checkpoint ``name`` (its manifest first, should one have landed)."""
        if not is_plain_name(name):
            raise ValueError(f"{name!r} is not a checkpoint folder name")
        folder = urls.join(self.root, name)
        self._remove(urls.join(folder, MANIFEST))
        self._remove(folder, recursive=True)

    def read_part(self, name: str, file: str, target: Path) -> None:
        """Download ``file`` of ``name`` to the local path ``target`` (streamed)."""
        if not is_plain_name(name) or not is_plain_name(file):
            raise ValueError(f"{name}/{file} is not a checkpoint file name")
        path = urls.join(self.root, name, file)
        if urls.protocols(self.options.url)[-1] in ("file", "local") and Path(path).is_symlink():
            raise FileNotFoundError(f"{self.location(name, file)} is a link, not a file of the checkpoint")
        self._call(functools.partial(self.fs.get_file, path, str(target)), "reading", self.location(name, file))

    def read(self, name: str, file: str) -> bytes:
        data: bytes = self._call(lambda: self.fs.cat_file(urls.join(self.root, name, file)), "reading",
                                 self.location(name, file))
        return data

    def delete(self, name: str) -> None:
        if not is_plain_name(name):
            raise ValueError(f"{name!r} is not a checkpoint folder name")
        folder = urls.join(self.root, name)
        self._call(lambda: self._remove(urls.join(folder, MANIFEST)), "uncommitting", self.location(name))
        self._call(lambda: self._remove(folder, recursive=True), "deleting", self.location(name))

    def location(self, name: str, file: str = "") -> str:
        return urls.join(self.url, name, file) if file else urls.join(self.url, name)

    def probe(self) -> None:
        """Store and remove a small object under the root; raise :class:`StorageError` if that
        fails. Leaves nothing behind (on a local filesystem, no folder made for it either)."""
        marker = urls.join(self.root, f".probe-{os.getpid()}")
        local = urls.protocols(self.options.url)[-1] in ("file", "local")
        with removing_new_folders(Path(self.root)) if local else contextlib.nullcontext():
            try:
                self._call(lambda: self.fs.pipe_file(marker, b"engine storage probe\n"), "writing", self.url)
            finally:
                with contextlib.suppress(Exception):
                    self._remove(marker)

    # ------------------------------------------------------------------ the lock

    def acquire_lock(self, holder: dict[str, Any], warn: Callable[[str], None],
                     notice: Callable[[str], None] | None = None) -> Callable[[], None] | None:
        """Lock the storage for one run's lifetime, best effort (see :mod:`engine_fsspec.lock`);
        returns the release. No lock with ``lock = false`` or on ``memory://`` (one process's own)."""
        if not self.options.lock or urls.protocols(self.options.url)[-1] == "memory":
            return None
        from engine_fsspec.lock import StorageLock

        return StorageLock(self, warn, self.options.lock_heartbeat, notice).acquire(holder)

    # ------------------------------------------------------------------ the run directory

    def write_run_file(self, relative: str, data: bytes) -> None:
        """Store one file of the run directory under ``<url>/run/`` (``mirror_run_dir``)."""
        path = urls.join(self.root, RUN_FOLDER, relative)
        self._unlink_planted_links(f"{RUN_FOLDER}/{relative}")
        self._call(functools.partial(self.fs.pipe_file, path, data), "copying",
                   urls.join(self.url, RUN_FOLDER, relative))

    def restore_run_directory(self, directory: Path) -> bool:
        """Write the stored copy of the run directory to ``directory``; False if there is none."""
        if not self.options.mirror_run_dir:
            return False
        base = urls.join(self.root, RUN_FOLDER)
        where = urls.join(self.url, RUN_FOLDER)

        def listing() -> list[str]:
            self.fs.invalidate_cache(base)
            try:
                return sorted(self.fs.find(base))
            except FileNotFoundError:
                return []

        stored = [(str(path)[len(base):].lstrip("/"), str(path)) for path in self._call(listing, "listing", where)]
        stored = [(relative, path) for relative, path in stored if safe_relative(relative)]
        for relative, path in stored:
            data: bytes = self._call(functools.partial(self.fs.cat_file, path), "reading",
                                     urls.join(where, relative))
            write_atomic(directory / relative, data)
        return bool(stored)

    # ------------------------------------------------------------------ helpers

    def _unlink_planted_links(self, relative: str) -> None:
        """On a local filesystem, remove the symlinks on the way from the root to ``relative``:
        writing through one would write outside the root."""
        if urls.protocols(self.options.url)[-1] not in ("file", "local"):
            return
        current = Path(self.root)
        for part in PurePosixPath(relative).parts:
            current = current / part
            if current.is_symlink():
                current.unlink()

    def _remove(self, path: str, recursive: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=recursive)
        self.fs.invalidate_cache(path)

    def _call(self, operation: Callable[[], T], doing: str, where: str) -> T:
        try:
            return call(operation, self.backoff, f"{doing} {where}")
        except GaveUpError as failure:
            tries = f" (gave up after {failure.tries} tries)" if failure.tries > 1 else ""
            raise StorageError(f"{doing} {where} failed{tries}: {type(failure.error).__name__}: "
                               f"{_one_line(failure.error)}") from failure.error


def _filesystem(options: FsspecStorageOptions) -> tuple[Any, str]:
    """The fsspec filesystem and root path for ``options``; a bad option is the spec's fault."""
    from fsspec.core import url_to_fs

    kwargs = _unredacted(options.filesystem)
    if urls.protocols(options.url)[-1] in ("file", "local"):
        kwargs.setdefault("auto_mkdir", True)
    try:
        fs, root = url_to_fs(options.url, **kwargs)
    except ImportError as exc:
        raise EngineError(f"cannot use {urls.public(options.url)!r}: {exc}", where="checkpoint.storage",
                          fix="pip install the fsspec filesystem it needs, e.g. 'engine-fsspec[s3]'") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise EngineError(f"the filesystem for {urls.public(options.url)!r} rejected its options: "
                          f"{type(exc).__name__}: {_one_line(exc)}",
                          where="checkpoint.storage_options.filesystem",
                          fix="check the option names in the filesystem's documentation") from None
    isolate_random()
    return fs, str(root).rstrip("/")


def _unredacted(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the values a recorded spec redacted (``"***"``, at any depth): unset."""
    return {key: _unredacted(value) if isinstance(value, dict) else value
            for key, value in options.items() if value != REDACTED}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
