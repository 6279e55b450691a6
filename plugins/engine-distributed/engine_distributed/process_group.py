"""Joining torchrun's processes: one process group per run, a bounded collective timeout."""

from __future__ import annotations

import datetime
import gc
import os
from typing import Any

import torch
import torch.distributed as dist

from engine import EngineError, Processes, Run, RunStatus
from engine_distributed.options import TorchDistributedOptions


def join(run: Run, options: TorchDistributedOptions) -> None:
    """Join the run's processes (from torchrun's environment; alone: a group of one).

    gloo serves CPU tensors; with CUDA, nccl serves CUDA tensors (``cpu:gloo,cuda:nccl``).
    Every collective fails after ``options.timeout`` seconds instead of waiting forever.
    """
    if dist.is_initialized():
        return
    timeout = datetime.timedelta(seconds=options.timeout)
    backend = _backend(options.process_group)
    if run.world_size == 1 and not _launched():
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1, timeout=timeout)
        return
    try:
        store, rank, world_size = next(dist.rendezvous("env://", timeout=timeout))
        # torchrun keeps one store for every attempt of a group it restarts (--max-restarts):
        # keys of this attempt's own, or the new workers would find the dead ones' addresses
        store = dist.PrefixStore(f"engine-attempt-{_attempt()}", store)
        dist.init_process_group(backend, store=store, rank=rank, world_size=world_size, timeout=timeout)
    except (ValueError, RuntimeError) as exc:
        raise EngineError(f"could not join the other processes: {exc}".splitlines()[0], where="strategy",
                          fix="launch with `engine run --nproc N` or torchrun, which set RANK, WORLD_SIZE, "
                              "MASTER_ADDR and MASTER_PORT") from None


def _attempt() -> int:
    """Which attempt of a group torchrun's elastic agent restarts this is (0: the first)."""
    try:
        return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    except ValueError:
        return 0


def leave(*, together: bool) -> None:
    """Leave the group; ``together`` (after a run that ended well) waits for every process
    first, so none tears its group down while another still talks to it."""
    global _checkpoint_group
    if not dist.is_initialized():
        return
    try:
        if together and dist.get_world_size() > 1:
            dist.barrier()
    finally:
        _checkpoint_group = None
        dist.destroy_process_group()
        gc.collect()  # drop the sharded model's references to the group before the interpreter exits


def _launched() -> bool:
    import os

    return "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ


def _launcher_environment() -> bool:
    """Whether a launcher (torchrun, ``--nproc``, a scheduler) gave this process a rank, or
    ``--nproc 1`` asked for one process."""
    import os

    from engine_distributed import launch

    return launch.one_process_requested or any(
        name in os.environ for name in ("RANK", "WORLD_SIZE", "TORCHELASTIC_RUN_ID"))


def _backend(choice: str) -> str:
    if choice != "auto":
        return choice
    return "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"


def place(device: torch.device, local_rank: int) -> torch.device:
    """This process's device: ``cuda`` becomes ``cuda:LOCAL_RANK`` (one GPU per process)."""
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    return device


def max_flags(flags: list[int]) -> list[int]:
    """The element-wise maximum of ``flags`` over every process (one small all-reduce)."""
    tensor = torch.tensor(flags, dtype=torch.int64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return [int(v) for v in tensor.tolist()]


def sum_all(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over every process."""
    out = tensor.clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out


def gather_to_main(value: Any, group: dist.ProcessGroup | None = None) -> list[Any] | None:
    """Every process's ``value`` on rank 0 (``None`` elsewhere), over ``group`` (default: all)."""
    gathered: list[Any] | None = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(value, gathered, dst=0, group=group)
    return gathered


_checkpoint_group: dist.ProcessGroup | None = None


def checkpoint_group() -> dist.ProcessGroup:
    """A gloo group of every process for checkpoint traffic in a background thread (DCP's
    ``async_save``, the gather of what each process stored), apart from training's collectives.

    Made on first use, which every process reaches at the same point (a collective save).
    """
    global _checkpoint_group
    if _checkpoint_group is None:
        _checkpoint_group = dist.new_group(backend="gloo")
    return _checkpoint_group


class TorchProcesses:
    """What ``ddp`` and ``fsdp`` share: joining, device placement, reductions, leaving."""

    sharded = False

    def __init__(self, options: TorchDistributedOptions):
        self.options = options
        self.run: Run | None = None

    def setup(self, run: Run) -> None:
        alone = run.world_size == 1 and not _launched() and not _launcher_environment()
        join(run, self.options)
        self.run = run
        if alone:
            strategy = run.spec.raw.get("strategy", {}).get("use", "this strategy")
            run.warn(f"strategy {strategy!r} runs as one process: no launcher started others "
                     "— pass `engine run --nproc N` (or launch with torchrun) to train in N processes")

    def processes(self, run: Run) -> Processes:
        """The joined group as the run's processes: ranks from the group, flags agreed by one
        all-reduce (with several processes), checkpoints collective where the state is sharded."""
        world_size = dist.get_world_size()
        return run.processes.replace(rank=dist.get_rank(), world_size=world_size,
                                     agree=max_flags if world_size > 1 else None,
                                     sync_every=self.options.sync_every, collective_checkpoints=self.sharded)

    def place(self, device: torch.device) -> torch.device:
        assert self.run is not None
        return place(device, self.run.local_rank)

    def reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        return sum_all(tensor)

    def on_run_end(self, status: str) -> None:
        # after a failure the others may be in a collective: leave at once, torchrun stops them
        together = RunStatus(status).finished
        if together:
            from engine_distributed import sharded_files

            sharded_files.wait()  # this process's part of a background save, before the group goes
        leave(together=together)
