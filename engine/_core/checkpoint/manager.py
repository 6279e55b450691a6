"""Saving, finding, verifying, restoring and retiring checkpoints in a storage."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from engine._core.checkpoint import state as state_files
from engine._core.checkpoint.manifest import (
    MANIFEST,
    CheckpointInfo,
    ElsewhereError,
    build_manifest,
    parse_manifest,
    verify,
)
from engine._core.checkpoint.participants import REQUIRED, RESERVED, by_state_key, describe
from engine._core.checkpoint.parts import CurrentCheckpoint, StoredParts, opened
from engine._core.checkpoint.state import FileData
from engine._core.checkpoint.storage import CheckpointStorage
from engine._core.errors import CheckpointError

log = logging.getLogger("engine.checkpoint")
_NAME = re.compile(r"^step-(\d+)$")

#: Something that keeps state: ``state_dict()`` and ``load_state_dict(state)``. The state holds
#: JSON values, bytes, and deferred bytes: an object with ``__bytes__`` that is a private host
#: copy that becomes bytes later, in the background; the participant must not change it after
#: ``state_dict`` returns (see :mod:`engine._core.checkpoint.state`).
Participant = Any
Warn = Callable[[str], None]


def checkpoint_name(step: int) -> str:
    return f"step-{step:09d}"


@attrs.frozen
class SaveFailure:
    """A checkpoint write that raised; the run's ``on_error`` policy decides what follows."""

    step: int
    error: Exception


class CheckpointManager:
    """Checkpoints of one run in one storage.

    With ``asynchronous``, :meth:`submit` returns once every participant's state is copied
    into host memory (bytes, or deferred bytes that no one changes any more), and a single
    background thread turns deferred values into bytes, hashes, writes and commits them: two
    saves never interleave, and one save never mixes state from two steps. A save waits for
    the one in flight before it takes its snapshot, so at most one snapshot is in memory and
    a participant may reuse its host buffers from one save to the next.
    """

    def __init__(self, storage: CheckpointStorage, *, warn: Warn | None = None,
                 asynchronous: bool = False):
        self.storage = storage
        self.warn: Warn = warn or log.warning
        #: The checkpoint this run resumed from; retention never deletes it.
        self.resumed_from: str | None = None
        #: Participants that start fresh on resume (their component was replaced in the spec).
        self.fresh: set[str] = set()
        #: Where a resume says which participants start fresh (a changed spec, not a problem).
        self.notice: Warn = log.info
        self.asynchronous = asynchronous
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="engine-checkpoint") if asynchronous else None
        self._pending: Future[CheckpointInfo | SaveFailure] | None = None
        self._finished: list[CheckpointInfo | SaveFailure] = []
        #: Saves of this process committed, and the last that failed (see :attr:`every_save_failed`).
        self.saves_written = 0
        self.saves_failed = 0
        self.last_failure: SaveFailure | None = None

    # ------------------------------------------------------------------ submitting

    def submit(self, participants: Mapping[str, Participant], *, step: int, epoch: int,
               metrics: dict[str, float]) -> None:
        """Save a checkpoint now, or in the background when asynchronous.

        Waits for the save in flight first: at most one snapshot in memory, and the previous
        one is written (its deferred values turned into bytes) before the next is taken.
        """
        if self._pending is not None:
            self._finished.append(self._pending.result())
            self._pending = None
        files = self.snapshot(participants, step=step)
        if self._executor is None:
            self._finished.append(self._attempt(files, step, epoch, metrics))
            return
        self._pending = self._executor.submit(self._attempt, files, step, epoch, metrics)

    @property
    def busy(self) -> bool:
        return self._pending is not None or bool(self._finished)

    def finished(self) -> list[CheckpointInfo | SaveFailure]:
        """Saves that ended since the last call (committed, or failed), oldest first."""
        if self._pending is not None and self._pending.done():
            self._finished.append(self._pending.result())
            self._pending = None
        done, self._finished = self._finished, []
        return done

    def drain(self) -> list[CheckpointInfo | SaveFailure]:
        """Wait for the save in flight, then return what :meth:`finished` would."""
        if self._pending is not None:
            self._finished.append(self._pending.result())
            self._pending = None
        return self.finished()

    def close(self) -> None:
        self.drain()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    @property
    def every_save_failed(self) -> SaveFailure | None:
        """The last failure, if this process tried to save and not one save was committed."""
        return self.last_failure if self.saves_failed and not self.saves_written else None

    def _attempt(self, files: dict[str, FileData], step: int, epoch: int,
                 metrics: dict[str, float]) -> CheckpointInfo | SaveFailure:
        try:
            info = self.write(files, step=step, epoch=epoch, metrics=metrics)
        except Exception as exc:
            self.saves_failed += 1
            self.last_failure = SaveFailure(step, exc)
            return self.last_failure
        self.saves_written += 1
        return info

    # ------------------------------------------------------------------ saving

    def snapshot(self, participants: Mapping[str, Participant], *, step: int | None = None) -> dict[str, FileData]:
        """Every participant's state as checkpoint files (host memory; nothing written yet).

        Deferred values stay deferred: :meth:`write` turns them into bytes. With ``step``,
        participants see the checkpoint of that step as :func:`current_checkpoint` (every
        process of a run calls this for a collective save; only the main one writes).
        """
        current = None if step is None else CurrentCheckpoint(
            self.storage, checkpoint_name(step), owner=os.getpid(), asynchronous=self.asynchronous)
        files: dict[str, FileData] = {}
        keyed = by_state_key(participants)
        with opened(current):
            for key, (_, participant) in keyed.items():
                files.update(state_files.encode(key, participant.state_dict()))
        files.update(state_files.encode(RESERVED, {"names": sorted(keyed)}))
        return files

    def write(self, files: Mapping[str, FileData], *, step: int, epoch: int,
              metrics: dict[str, float]) -> CheckpointInfo:
        """Turn deferred values into bytes, then store the snapshot and commit it with its manifest.

        Runs in the background thread when asynchronous, so that is where ``__bytes__`` runs.
        """
        name = checkpoint_name(step)
        listed = [file for file, value in files.items() if isinstance(value, StoredParts)]
        parted: Any = self.storage  # with parts, it has the optional commit and discard
        try:
            data = state_files.materialize(files)
            parts: dict[str, dict[str, Any]] = {}
            for file in listed:
                parts.update(json.loads(data[file]))
            manifest = build_manifest(name, step, epoch, metrics, data, parts)
            if listed:
                parted.commit(name, data, manifest, owner=os.getpid())
            else:
                self.storage.write(name, data, manifest)
        except BaseException:
            if listed:  # what the processes stored is never committed: remove it now
                with contextlib.suppress(Exception):
                    parted.discard(name, owner=os.getpid())
            raise
        return parse_manifest(manifest, self.storage.location(name))

    def save(self, participants: Mapping[str, Participant], *, step: int, epoch: int,
             metrics: dict[str, float]) -> CheckpointInfo:
        return self.write(self.snapshot(participants, step=step), step=step, epoch=epoch, metrics=metrics)

    # ------------------------------------------------------------------ reading

    def committed(self, *, quiet: bool = False) -> list[CheckpointInfo]:
        """Committed checkpoints (manifest present and readable), oldest first.

        Uncommitted ones are skipped with a warning unless ``quiet`` (a save in flight).
        """
        found = []
        for name in self.storage.list():
            if not _NAME.fullmatch(name):
                continue
            try:
                data = self.storage.read(name, MANIFEST)
            except FileNotFoundError:
                if not quiet:
                    self.warn(f"checkpoint {self.storage.location(name)} has no manifest (an "
                              "interrupted save); skipping it")
                continue
            try:
                info = parse_manifest(data, self.storage.location(name))
                if info.name != name:  # retention deletes by name: only the folder listed here
                    raise ElsewhereError(f"its manifest names another place ({info.name!r})")
            except ElsewhereError as exc:
                self.warn(f"checkpoint {self.storage.location(name)} is damaged: {exc}; skipping it")
                continue
            except (ValueError, KeyError, TypeError) as exc:
                self.warn(f"checkpoint {self.storage.location(name)} has an unreadable manifest "
                          f"({exc}); skipping it")
                continue
            found.append(info)
        return sorted(found, key=lambda info: info.step)

    def load_latest(self, participants: Mapping[str, Participant]) -> CheckpointInfo | None:
        """Restore every participant from the newest checkpoint that verifies.

        A checkpoint whose files are missing or fail their checksum is skipped with a
        warning and the previous one is tried. Returns ``None`` if none is usable.

        States are found by each participant's ``state_key`` (see
        :mod:`engine._core.checkpoint.participants`). A participant the checkpoint holds no
        state for (a component added since it was saved), or one named in :attr:`fresh` (a
        component replaced), starts fresh with a notice: that is a changed spec, not damage.
        No state for the loop or the backend is a :class:`CheckpointError`: the run cannot go
        on without them. A participant whose ``load_state_dict`` rejects its state is a
        :class:`CheckpointError` naming it.
        """
        keyed = by_state_key(participants)
        for info in reversed(self.committed()):
            try:
                states = self._read_verified(info, keyed)
            except (ValueError, FileNotFoundError, KeyError) as exc:
                self.warn(f"checkpoint {info.url} is damaged ({exc}); trying the previous one")
                continue
            fresh = {key for key, (name, _) in keyed.items() if key not in states or name in self.fresh}
            required = [describe(name, key) for key, (name, _) in keyed.items()
                        if key not in states and name in REQUIRED and name not in self.fresh]
            if required:
                raise CheckpointError(
                    f"checkpoint {info.url} holds no state for {', '.join(required)}", where="--resume",
                    fix="resume with the plugins the checkpoint was made with (a state_key may have changed), "
                        "or start a new run")
            if fresh:
                shown = sorted(describe(keyed[key][0], key) for key in fresh)
                self.notice(f"checkpoint {info.name} holds no state for {', '.join(shown)} (added or "
                            "replaced since it was saved): starting it fresh")
            for key, (name, participant) in keyed.items():
                if key in fresh:
                    continue
                try:
                    with opened(self._current(info)):
                        participant.load_state_dict(states[key])
                except (KeyError, ValueError, TypeError, IndexError) as exc:
                    raise CheckpointError(
                        f"checkpoint {info.url}: {name} cannot load the state saved there "
                        f"({type(exc).__name__}: {exc})", where="--resume",
                        fix="resume with the spec the checkpoint was made with, or start a new run") from None
            self.resumed_from = info.name
            return info
        return None

    def _read_verified(self, info: CheckpointInfo,
                       participants: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The verified states the checkpoint holds of ``participants`` (by state key); every
        file is checked."""
        cache: dict[str, bytes] = {}

        def read(file: str) -> bytes:
            if file not in cache:
                data = self.storage.read(info.name, file)
                verify(info, file, data)
                cache[file] = data
            return cache[file]

        for file in info.files:  # every file, so damage anywhere is found before loading
            read(file)
        saved = set(state_files.decode(RESERVED, read)["names"])
        return {key: state_files.decode(key, read) for key in participants if key in saved}

    def _current(self, info: CheckpointInfo) -> CurrentCheckpoint:
        return CurrentCheckpoint(self.storage, info.name, owner=os.getpid(), asynchronous=self.asynchronous,
                                 parts=info.parts)

    # ------------------------------------------------------------------ retention

    def retain(self, *, keep_last: int, save_top_k: int = 0, monitor: str = "",
               mode: str = "min") -> list[str]:
        """Delete committed checkpoints beyond ``keep_last`` newest and ``save_top_k`` best.

        Never deletes the checkpoint this run resumed from, nor anything uncommitted.
        Returns the names deleted.
        """
        infos = self.committed(quiet=True)
        keep = {info.name for info in infos[-keep_last:]}
        if save_top_k and monitor:
            ranked = [i for i in infos if _finite(i.metrics.get(monitor))]
            ranked.sort(key=lambda i: i.metrics[monitor], reverse=(mode == "max"))
            keep |= {info.name for info in ranked[:save_top_k]}
        if self.resumed_from:
            keep.add(self.resumed_from)
        deleted = []
        for info in infos:
            if info.name not in keep:
                self.storage.delete(info.name)
                deleted.append(info.name)
        return deleted


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and value == value and abs(value) != float("inf")
