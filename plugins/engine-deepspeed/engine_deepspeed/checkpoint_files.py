"""DeepSpeed's own checkpoint files as checkpoint state (bytes), through any engine storage.

Every process calls ``save_checkpoint`` into a private temporary directory (DeepSpeed writes
each process's ZeRO partition there, rank 0 also the model states); rank 0 gathers every
process's files and returns them as ``{"files": {name: bytes}}``, which the engine's
checkpoint storage writes with its manifest last. To load, every process puts the files
back into a temporary directory and calls ``load_checkpoint``.

DeepSpeed's files are torch pickles that ``load_checkpoint`` unpickles in full. Before it
does, each is read with torch's weights-only unpickler, which admits tensors, plain
containers and the few DeepSpeed record classes below and nothing else, so a checkpoint
that names other code is refused instead of run.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from engine_distributed import gather_to_main

from engine import CheckpointError, is_plain_name

TAG = "state"
#: DeepSpeed's record classes its checkpoints hold besides tensors and plain values.
RECORDS = ("deepspeed.runtime.fp16.loss_scaler.LossScaler", "deepspeed.runtime.zero.config.ZeroStageEnum",
           "deepspeed.utils.tensor_fragment.fragment_address")


def save(engine: Any) -> dict[str, Any]:
    """Save the engine (collective); rank 0 returns every process's files, the others ``{}``."""
    with tempfile.TemporaryDirectory(prefix="engine-deepspeed-") as tmp:
        engine.save_checkpoint(tmp, tag=TAG, save_latest=False)
        folder = Path(tmp) / TAG
        mine = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()} \
            if folder.is_dir() else {}
    gathered = gather_to_main(mine)
    if gathered is None:
        return {}
    files: dict[str, bytes] = {}
    for part in gathered:
        files.update(part)
    return {"files": files, "world_size": dist.get_world_size()}


def load(engine: Any, saved: dict[str, Any]) -> None:
    """Load what :func:`save` returned into the engine (collective): model, optimizer, counters."""
    files = saved.get("files")
    world = saved.get("world_size")
    if not isinstance(files, dict) or not files:
        raise CheckpointError("the checkpoint holds no DeepSpeed files",
                              fix="resume from a checkpoint a deepspeed run wrote, or drop --resume")
    if world != dist.get_world_size():
        raise CheckpointError(f"the checkpoint was written by {world} processes, this run has "
                              f"{dist.get_world_size()}", where="--resume",
                              fix=f"resume with {world} processes (DeepSpeed's ZeRO partitions are per process)")
    check_files(files)
    with tempfile.TemporaryDirectory(prefix="engine-deepspeed-") as tmp:
        folder = Path(tmp) / TAG
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        engine.load_checkpoint(tmp, tag=TAG, load_optimizer_states=True, load_lr_scheduler_states=False)


def check_files(files: dict[str, bytes]) -> None:
    """Raise :class:`CheckpointError` unless every file has a plain name and holds only tensors,
    plain values and DeepSpeed's records."""
    allowed = [_record(path) for path in RECORDS]
    for name, data in files.items():
        if not isinstance(name, str) or not is_plain_name(name) or not name.endswith(".pt"):
            raise CheckpointError(f"the checkpoint's DeepSpeed files are damaged: {name!r} is not one of them",
                                  fix="resume from a checkpoint this run wrote, or drop --resume")
        try:
            with torch.serialization.safe_globals(allowed):
                torch.load(io.BytesIO(bytes(data)), map_location="cpu", weights_only=True)
        except Exception as exc:
            named = re.search(r"GLOBAL ([\w.]+)", str(exc))
            reason = f"names {named.group(1)}, which is no part of a DeepSpeed checkpoint" if named \
                else f"is not a torch file ({type(exc).__name__})"
            raise CheckpointError(f"the checkpoint's DeepSpeed file {name} {reason}",
                                  fix="resume from a checkpoint this run wrote, or drop --resume") from None


def _record(path: str) -> Any:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)
