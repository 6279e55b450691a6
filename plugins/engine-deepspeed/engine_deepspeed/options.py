"""Options of the ``[strategy]`` section for ``deepspeed`` (no deepspeed import here)."""

from __future__ import annotations

from typing import Literal

import attrs
from engine_distributed import TorchDistributedOptions

from engine import STRUCTURAL


@attrs.define
class DeepSpeedOptions(TorchDistributedOptions):
    """DeepSpeed's engine over torchrun's processes: ZeRO shards optimizer state (stage 1),
    gradients (2) and parameters (3); checkpoints are DeepSpeed's own files.

    ``timeout``, ``sync_every`` and ``process_group`` are engine-distributed's, as for ddp and
    fsdp; DeepSpeed's communication then runs on the group they make (``auto``, gloo on CPU
    plus nccl for CUDA tensors, is what DeepSpeed's accelerators want)."""

    zero_stage: Literal[1, 2, 3] | None = attrs.field(default=None, metadata=STRUCTURAL)
    """ZeRO stage 1, 2 or 3 (default: the ``config`` file's, else 2)."""
    offload_optimizer: bool = False
    """Keep the optimizer state in host memory (``zero_optimization.offload_optimizer``)."""
    offload_param: bool = False
    """Keep the parameters in host memory (stage 3 only; ``zero_optimization.offload_param``)."""
    config: str = ""
    """Path of a DeepSpeed JSON config (relative to the working directory) for its other
    settings; what the engine sets itself (precision, accumulation, clipping, batch size,
    ZeRO stage) must agree with it or be left out of it."""
