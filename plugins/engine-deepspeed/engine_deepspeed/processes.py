"""Joining torchrun's processes for DeepSpeed: one process group, a bounded collective timeout."""

from __future__ import annotations

import datetime
import gc
import os
from typing import Any

import torch
import torch.distributed as dist

from engine import EngineError, Run


def join(run: Run, timeout: float) -> None:
    """Join the run's processes (torchrun's environment; alone: a group of one), then let
    DeepSpeed's communication layer use that group. gloo on CPU, nccl for CUDA tensors."""
    import deepspeed

    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    limit = datetime.timedelta(seconds=timeout)
    if not dist.is_initialized():
        if run.world_size == 1 and not launched():
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1, timeout=limit)
        else:
            try:
                dist.init_process_group(backend, timeout=limit)
            except (ValueError, RuntimeError) as exc:
                raise EngineError(f"could not join the other processes: {exc}".splitlines()[0], where="strategy",
                                  fix="launch with torchrun (or `engine run --nproc N` with engine-distributed), "
                                      "which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT") from None
    deepspeed.init_distributed(dist_backend=backend, auto_mpi_discovery=False, verbose=False, timeout=limit)


def launched() -> bool:
    return "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ


def leave(*, together: bool) -> None:
    """Leave the group; ``together`` (a run that ended well) waits for every process first."""
    if not dist.is_initialized():
        return
    try:
        if together and dist.get_world_size() > 1:
            dist.barrier()
    finally:
        dist.destroy_process_group()
        gc.collect()


def max_flags(flags: list[int]) -> list[int]:
    """The element-wise maximum of ``flags`` over every process (one small all-reduce)."""
    tensor = torch.tensor(flags, dtype=torch.int64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [int(v) for v in tensor.tolist()]


def sum_all(tensor: torch.Tensor) -> torch.Tensor:
    out = tensor.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def gather_to_main(value: Any) -> list[Any] | None:
    """Every process's ``value`` on rank 0 (``None`` elsewhere)."""
    gathered: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(value, gathered, dst=0)
    return gathered
