"""The seam between the torch backend and a distributed strategy (engine-distributed's ddp, fsdp).

A strategy is the component selected by ``[strategy]``; the backend finds it in
``run.components["strategy"]`` and calls it at these points only:

- ``place(device)``: the device of this process (``cuda`` becomes ``cuda:LOCAL_RANK``);
- ``wrap(module)``: the module to train (a ``DistributedDataParallel`` wrapper, or the module
  sharded in place with ``fully_shard``), before the optimizer is built;
- ``reduce(tensor)``: the sum over every process, for evaluation sums and counts;
- ``model_state(module, optimizer)`` / ``load_model_state(module, optimizer, state)``: the
  model's and optimizer's checkpoint state when the strategy owns it (``sharded`` is true;
  called on every process), or ``None`` to let the backend save its own full state;
- ``full_state(module)``: the whole model's tensors for export (gathered if sharded), or
  ``None`` on processes that do not write.

A strategy whose library owns the optimizer step (engine-deepspeed) also has the methods
of :class:`OwnedStep`; the backend then leaves backward passes, gradient scaling, clipping
and the optimizer step to it.

The data needs no call: every process cuts the same seeded global order into global
batches and keeps its slice of each (``run.rank`` of ``run.world_size``), see
:meth:`engine_torch.data.DatasetBatches.shard`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class TorchStrategy(Protocol):
    #: True when checkpoints hold the strategy's (sharded) model state.
    sharded: bool

    def place(self, device: torch.device) -> torch.device: ...

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module: ...

    def reduce(self, tensor: torch.Tensor) -> torch.Tensor: ...

    def model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None: ...

    def load_model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                         state: dict[str, Any]) -> None: ...

    def full_state(self, module: torch.nn.Module) -> dict[str, torch.Tensor] | None: ...


@runtime_checkable
class OwnedStep(Protocol):
    """A strategy that owns backward passes and optimizer steps (DeepSpeed's engine).

    - ``prepare(model, optimizer)``: called once the optimizer is built (its learning rates
      are still the backend's to set each step); returns the model to call for forward passes;
    - ``backward(loss)``: for each micro-batch, with its unscaled loss (the strategy divides
      by the accumulation and scales for ``16-mixed`` itself);
    - ``step()``: once after the ``accumulate`` micro-batches: clip, step, zero the gradients.
    """

    def prepare(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> torch.nn.Module: ...

    def backward(self, loss: torch.Tensor) -> None: ...

    def step(self) -> None: ...
