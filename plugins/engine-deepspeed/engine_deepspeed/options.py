"""Options of the ``[strategy]`` section for ``deepspeed`` (no deepspeed import here)."""

from __future__ import annotations

from typing import Literal

import attrs

from engine import STRUCTURAL


@attrs.define
class DeepSpeedOptions:
    """DeepSpeed's engine over torchrun's processes: ZeRO shards optimizer state (stage 1),
    gradients (2) and parameters (3); checkpoints are DeepSpeed's own files."""

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
    timeout: float = 300.0
    """Seconds a collective may wait for the other processes before the run fails (never a hang)."""
    sync_every: int = 16
    """At most this many steps between two agreements of all processes on stop, signal and
    checkpoint requests (0: only at log/eval/checkpoint boundaries and epoch ends)."""

    def __attrs_post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        if self.sync_every < 0:
            raise ValueError("sync_every must be 0 or more")
