"""torch.distributed.checkpoint files as checkpoint state (bytes), through any engine storage.

Each process saves its shard with DCP's ``FileSystemWriter`` into a private temporary
directory (rank 0 also writes ``.metadata``); rank 0 gathers every process's files and
returns them as ``{"files": {name: bytes}}``, which the engine's checkpoint storage writes
(local directory or any fsspec URL) with the manifest last. To load, every process puts the
files back into a temporary directory and reads its own shard with DCP, which reshards when
the number of processes changed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch.distributed as dist
import torch.distributed.checkpoint as dcp

from engine import CheckpointError
from engine_distributed.dcp_metadata import DamagedShardsError, check_files
from engine_distributed.process_group import gather_to_main


def save(state: dict[str, Any]) -> dict[str, Any]:
    """Save ``state`` (collective); rank 0 returns every process's DCP files, others ``{}``."""
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
    try:
        check_files(saved["files"])
    except DamagedShardsError as exc:
        raise CheckpointError(f"the checkpoint's sharded state is damaged: {exc}",
                              fix="resume from a checkpoint this run wrote, or drop --resume") from None
    with tempfile.TemporaryDirectory(prefix="engine-dcp-") as tmp:
        for name, data in saved["files"].items():
            (Path(tmp) / name).write_bytes(data)
        dcp.load(state, storage_reader=dcp.FileSystemReader(tmp))
