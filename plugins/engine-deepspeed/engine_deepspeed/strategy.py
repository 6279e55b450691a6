"""The ``deepspeed`` strategy: DeepSpeed's engine trains the torch backend's model (ZeRO 1-3)."""

from __future__ import annotations

import datetime
import logging
import os
from typing import Any

import deepspeed
import torch
import torch.distributed as dist
from deepspeed.accelerator import get_accelerator
from engine_distributed import TorchProcesses

from engine import EngineError, Run, hookimpl
from engine_deepspeed import checkpoint_files, ds_config
from engine_deepspeed.options import DeepSpeedOptions


class DeepSpeedStrategy(TorchProcesses):
    """``deepspeed.initialize`` with the backend's model and optimizer; DeepSpeed then owns
    backward passes, loss scaling, accumulation, clipping and the optimizer step, and the
    backend keeps the data, forward passes, learning rates, evaluation and export.

    The processes (joining, ranks, agreement, reductions, leaving) are engine-distributed's,
    as for ddp and fsdp. Checkpoints hold DeepSpeed's own files of every process (every
    process takes part in a save; rank 0 writes them through the run's checkpoint storage);
    a resume needs the same number of processes.
    """

    sharded = True
    options: DeepSpeedOptions

    def __init__(self, options: DeepSpeedOptions):
        super().__init__(options)
        self.engine: Any = None

    def setup(self, run: Run) -> None:
        """Join the processes, then let DeepSpeed's communication layer use that group."""
        logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
        super().setup(run)
        # DeepSpeed reads the local rank from the environment; alone, no launcher has set it
        os.environ.setdefault("LOCAL_RANK", str(run.local_rank))
        deepspeed.init_distributed(dist_backend=dist.get_backend(), auto_mpi_discovery=False, verbose=False,
                                   timeout=datetime.timedelta(seconds=self.options.timeout))

    def place(self, device: torch.device) -> torch.device:
        accelerator = get_accelerator().device_name()
        if device.type != accelerator:
            raise EngineError(f"DeepSpeed runs on its {accelerator!r} accelerator here, but the backend's device "
                              f"is {str(device)!r}", where="backend.device",
                              fix=f'set device = "{accelerator}" (or DS_ACCELERATOR={device.type} in the environment)')
        return super().place(device)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        return module  # DeepSpeed wraps it with the optimizer, in prepare

    def prepare(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> torch.nn.Module:
        run = self.run
        assert run is not None
        backend = run.spec.component("backend")
        precision = run.spec.component("precision")
        o = backend.options if backend is not None else None
        name = precision.name if precision is not None else None
        if name == "16-mixed" and not get_accelerator().is_fp16_supported():
            raise EngineError(f"DeepSpeed's {get_accelerator().device_name()!r} accelerator does not train in "
                              "float16", where="precision.use", fix='use "bf16-mixed" or "32-true" here')
        config = ds_config.build(self.options, precision=name, accumulate=getattr(o, "accumulate", 1),
                                 clip_norm=getattr(o, "clip_norm", None),
                                 micro_batch=max(int(getattr(o, "batch_size", 1)) // run.world_size, 1))
        self.engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, config=config,
                                                    dist_init_required=False)
        return self.engine  # type: ignore[no-any-return]

    def backward(self, loss: torch.Tensor) -> None:
        engine = self.engine
        engine.backward(loss)
        if not engine.is_gradient_accumulation_boundary():
            engine.step()  # counts the micro-batch; DeepSpeed steps only at the boundary

    def step(self) -> None:
        self.engine.step()

    def model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
        return checkpoint_files.save(self.engine)

    def load_model_state(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                         state: dict[str, Any]) -> None:
        checkpoint_files.load(self.engine, state)

    def full_state(self, module: torch.nn.Module) -> dict[str, torch.Tensor] | None:
        """The float32 weights (DeepSpeed's master copies, gathered under ZeRO 3) and buffers;
        every process takes part, rank 0 returns them."""
        from deepspeed.utils import safe_get_full_fp32_param

        assert self.run is not None
        tensors: dict[str, torch.Tensor] = {}
        parameters = {id(p): p for p in module.parameters()}
        for key, value in module.state_dict(keep_vars=True).items():
            if id(value) in parameters:
                full = safe_get_full_fp32_param(value)
                tensors[key] = (full if full is not None else value).detach().float().cpu()
            else:
                tensors[key] = value.detach().cpu()
        return tensors if self.run.is_main_process else None

    @hookimpl
    def on_run_end(self, status: str) -> None:
        super().on_run_end(status)
