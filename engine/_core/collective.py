"""The processes of a run: which one this is, and how they take the same decisions."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs


@attrs.frozen
class Processes:
    """This process's place among the run's processes, and the collectives the loop needs.

    The core starts every run with :meth:`from_environment`; a strategy for several processes
    gives the run its own value after its ``setup``, from a method ``processes(run) ->
    Processes`` (usually ``run.processes.replace(...)``). The loop reads it; nothing else
    changes it.
    """

    rank: int = 0
    """This process's index, 0 to ``world_size - 1``; 0 writes the run directory."""
    world_size: int = 1
    """How many processes train the run together."""
    local_rank: int = 0
    """This process's index on its machine (its GPU, under one GPU per process)."""
    agree: Callable[[list[int]], list[int]] | None = None
    """The element-wise maximum of every process's flags (one small all-reduce), so that all
    take the same decisions at the same step; ``None`` for a single process."""
    sync_every: int = 0
    """With ``agree``: at most this many steps between two agreements (0: only at the loop's
    cadence boundaries and epoch ends)."""
    collective_checkpoints: bool = False
    """Every process calls ``state_dict()`` at a save (the main process alone writes what
    they return): a strategy whose state is sharded."""

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that writes records, metrics, summary and exports."""
        return self.rank == 0

    def replace(self, **changes: Any) -> Processes:
        """A copy with ``changes`` (keyword arguments named as the attributes)."""
        return attrs.evolve(self, **changes)

    @classmethod
    def from_environment(cls) -> Processes:
        """From the launcher's environment (torchrun sets ``RANK``, ``WORLD_SIZE``,
        ``LOCAL_RANK``); 0, 1, 0 for a single process. No collectives."""
        def read(name: str, default: int) -> int:
            try:
                return int(os.environ.get(name, default))
            except ValueError:
                return default
        return cls(rank=read("RANK", 0), world_size=max(read("WORLD_SIZE", 1), 1),
                   local_rank=read("LOCAL_RANK", 0))
