"""torch.distributed.checkpoint (DCP) files of a sharded model, stored by every process.

Saving: each process writes its own shard with DCP's ``FileSystemWriter`` into a private
temporary folder (the first also writes ``.metadata``), then streams those files straight
into the checkpoint through the run's storage (``CurrentCheckpoint.store``: a local
directory, or any fsspec URL). Each process then reports its files' names, sizes and
checksums: one small gather to rank 0, whose state holds them as :class:`engine.StoredParts`;
the checkpoint manager lists them in the manifest and commits only after every process
succeeded. No process holds more than its own shard. With asynchronous checkpoints the
shard is saved with DCP's ``async_save`` and the storing and reporting happen in a
background thread, over a process group of their own.

Loading: every process copies the checkpoint's DCP files to a private temporary folder
(streamed, checked against the manifest's sizes and checksums, and the metadata checked by
:mod:`engine_distributed.dcp_metadata` before DCP unpickles it), then reads its shard with
``FileSystemReader``, which reshards when the number of processes changed.

A storage without part files (a third-party one) gets the former path: rank 0 gathers every
process's files and returns them as state bytes (:func:`save_gathered`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import attrs
import torch.distributed as dist
import torch.distributed.checkpoint as dcp

from engine import CheckpointError, CurrentCheckpoint, StoredParts, current_checkpoint
from engine_distributed.dcp_metadata import DamagedShardsError, check_files, check_stored
from engine_distributed.process_group import checkpoint_group, gather_to_main, max_flags

log = logging.getLogger("engine.distributed")
PartEntries = dict[str, dict[str, Any]]

#: This process's save in flight (asynchronous checkpoints): storing and reporting its parts.
_pending: Future[PartEntries | None] | None = None


def save(state: dict[str, Any]) -> dict[str, Any]:
    """Save ``state`` (collective): every process stores its own shard in the checkpoint.

    Rank 0 returns ``{"parts": StoredParts, "world_size": N}``, the others ``{}``.
    """
    global _pending
    current = current_checkpoint()
    if current is None or not current.stores_parts:
        return save_gathered(state)
    wait()  # one save in flight: the previous one's gather comes before this one's
    rank, world_size = dist.get_rank(), dist.get_world_size()
    owner = max_flags([current.owner if rank == 0 else 0])[0] if world_size > 1 else current.owner
    current = attrs.evolve(current, owner=owner)
    folder = Path(tempfile.mkdtemp(prefix="engine-dcp-"))
    writer = dcp.FileSystemWriter(folder, single_file_per_rank=True)
    entries: Callable[[], PartEntries]
    if current.asynchronous:
        group = checkpoint_group()
        try:
            written = dcp.async_save(state, storage_writer=writer, process_group=group)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = _in_background(lambda: _store_and_report(current, folder, written.result, group))  # type: ignore[union-attr]
        _pending = job
        entries = lambda: _required(job.result())  # noqa: E731
    else:
        try:
            dcp.save(state, storage_writer=writer)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        done: Future[PartEntries | None] = Future()
        try:
            done.set_result(_store_and_report(current, folder, None, None))
        except CheckpointError as exc:  # the manager fails the save where it writes it
            done.set_exception(exc)
        entries = lambda: _required(done.result())  # noqa: E731
    if rank != 0:
        return {}
    return {"parts": StoredParts(entries), "world_size": world_size}


def wait() -> None:
    """Wait for this process's save in flight, if any (its failure was reported by rank 0)."""
    global _pending
    job, _pending = _pending, None
    if job is not None:
        try:
            job.result()
        except Exception as exc:  # rank 0 fails that save; this process goes on with the run
            log.warning("could not store this process's part of a checkpoint: %s", exc)


def _store_and_report(current: CurrentCheckpoint, folder: Path, written: Callable[[], Any] | None,
                      group: dist.ProcessGroup | None) -> PartEntries | None:
    """Store this process's files, then gather every process's report on rank 0: there, the
    parts of all (raising if any failed); ``None`` elsewhere."""
    rank = dist.get_rank()
    try:
        if written is not None:
            written()
        report: dict[str, Any] = {"parts": {path.name: current.store(path.name, path)
                                            for path in sorted(folder.iterdir()) if path.is_file()}}
    except Exception as exc:
        report = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    gathered = gather_to_main(report, group) if dist.get_world_size() > 1 else [report]
    if gathered is None:  # rank 0 fails the save; this process goes on with the run
        if "error" in report:
            log.warning("process %d could not store its shard of %s: %s", rank, current.name, report["error"])
        return None
    parts: PartEntries = {}
    for process, each in enumerate(gathered):
        if "error" in each:
            raise CheckpointError(f"process {process} could not store its shard of {current.name}: "
                                  f"{each['error']}; the checkpoint is not committed")
        parts.update(each["parts"])
    return parts


def _required(parts: PartEntries | None) -> PartEntries:
    assert parts is not None, "only rank 0's state lists the parts"
    return parts


def _in_background(work: Callable[[], PartEntries | None]) -> Future[PartEntries | None]:
    """``work`` in a daemon thread: a process that fails does not wait for it at exit."""
    future: Future[PartEntries | None] = Future()

    def target() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name="engine-dcp-parts", daemon=True).start()
    return future


def save_gathered(state: dict[str, Any]) -> dict[str, Any]:
    """Save ``state`` (collective) the former way: rank 0 gathers every process's DCP files and
    returns them as ``{"files": {name: bytes}}`` (its memory holds the whole state); others ``{}``."""
    with tempfile.TemporaryDirectory(prefix="engine-dcp-") as tmp:
        dcp.save(state, storage_writer=dcp.FileSystemWriter(tmp, single_file_per_rank=True))
        mine = {path.name: path.read_bytes() for path in sorted(Path(tmp).iterdir()) if path.is_file()}
    gathered = gather_to_main(mine)
    if gathered is None:
        return {}
    files: dict[str, bytes] = {}
    for part in gathered:
        files.update(part)
    return {"files": files, "world_size": dist.get_world_size()}


def load(state: dict[str, Any], saved: dict[str, Any]) -> None:
    """Load ``saved`` (what :func:`save` returned) into ``state`` in place (collective).

    The files are checked first (:mod:`engine_distributed.dcp_metadata`): DCP unpickles its
    metadata, so a file that names code, or a file outside the checkpoint, is refused.
    """
    if "files" in saved:
        _load_gathered(state, saved["files"])
        return
    current = current_checkpoint()
    if current is None or not current.parts:
        raise CheckpointError("the checkpoint's sharded state lists no shard files",
                              fix="resume from a checkpoint this run wrote, or drop --resume")
    with tempfile.TemporaryDirectory(prefix="engine-dcp-") as tmp:
        folder = Path(tmp)
        try:
            for file in sorted(current.parts):
                current.fetch(file, folder / file)
            check_stored(set(current.parts), {file: (folder / file).read_bytes()
                                              for file in current.parts if file.endswith(".metadata")})
        except (ValueError, FileNotFoundError) as exc:
            raise CheckpointError(f"the checkpoint's sharded state is damaged: {exc}",
                                  fix="resume from a checkpoint this run wrote, or drop --resume") from None
        dcp.load(state, storage_reader=dcp.FileSystemReader(folder))


def _load_gathered(state: dict[str, Any], files: dict[str, bytes]) -> None:
    try:
        check_files(files)
    except DamagedShardsError as exc:
        raise CheckpointError(f"the checkpoint's sharded state is damaged: {exc}",
                              fix="resume from a checkpoint this run wrote, or drop --resume") from None
    with tempfile.TemporaryDirectory(prefix="engine-dcp-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        dcp.load(state, storage_reader=dcp.FileSystemReader(tmp))
