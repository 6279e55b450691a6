"""Options of the ``[strategy]`` section for ``ddp``, ``fsdp`` and ``dask``."""

from __future__ import annotations

from typing import Literal

import attrs

from engine import parallelism_problems

#: The dtypes FSDP's mixed precision may gather parameters and reduce gradients in.
FsdpDtype = Literal["float32", "bfloat16", "float16"]


@attrs.define
class TorchDistributedOptions:
    """Processes launched by torchrun (``engine run --nproc N`` or ``torchrun … -m engine run``)."""

    timeout: float = 300.0
    """Seconds a collective may wait for the other processes before the run fails (never a hang)."""
    sync_every: int = 16
    """At most this many steps between two agreements of all processes on stop, signal and
    checkpoint requests (0: only at log/eval/checkpoint boundaries and epoch ends)."""
    process_group: Literal["auto", "gloo", "nccl"] = "auto"
    """The torch.distributed backend: ``auto`` is gloo on CPU plus nccl for CUDA tensors."""

    def __attrs_post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive (seconds)")
        if self.sync_every < 0:
            raise ValueError("sync_every must be 0 or more")


@attrs.define
class DdpOptions(TorchDistributedOptions):
    """DistributedDataParallel: every process holds the whole model; gradients are averaged."""

    find_unused_parameters: bool = False
    """Let DDP tolerate parameters that get no gradient in a step (slower)."""


@attrs.define
class FsdpOptions(TorchDistributedOptions):
    """FSDP2 (``fully_shard``): parameters, gradients and optimizer state sharded over processes."""

    reshard_after_forward: bool = True
    """Free the gathered parameters after the forward pass (less memory, one more all-gather)."""
    wrap: list[str] = attrs.field(factory=list)
    """Module class names whose instances are sharded one by one (``["TransformerBlock"]``);
    empty: each direct child of the model with parameters. The model itself is always sharded last."""
    param_dtype: FsdpDtype | None = None
    """Dtype the gathered parameters compute in, forward and backward (FSDP2's
    ``MixedPrecisionPolicy``); the sharded parameters and the optimizer keep their own. Default: theirs."""
    reduce_dtype: FsdpDtype | None = None
    """Dtype gradients are averaged over the processes in. Default: ``param_dtype``, else the parameters'."""
    cpu_offload: bool = False
    """Keep the sharded parameters, gradients and optimizer step in host memory (FSDP2's
    ``CPUOffloadPolicy``): less accelerator memory, slower steps. On a CPU run it changes nothing."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        blank = [name for name in self.wrap if not name.strip()]
        if blank:
            raise ValueError('wrap: expected module class names such as ["TransformerBlock"], got an empty name')
        repeated = sorted({name for name in self.wrap if self.wrap.count(name) > 1})
        if repeated:
            raise ValueError(f"wrap names {', '.join(map(repr, repeated))} more than once — name each class once")


@attrs.define
class DaskOptions:
    """XGBoost or LightGBM trained on a Dask cluster."""

    scheduler: str = ""
    """Address of a running scheduler (``tcp://host:8786``); empty: a local cluster for the run."""
    workers: int = 2
    """Workers of the local cluster (ignored with ``scheduler``)."""
    threads_per_worker: int = 1
    """Threads of each local worker (ignored with ``scheduler``)."""
    processes: bool = True
    """Local workers as processes (true) or threads of this process (false)."""
    partitions: int = 0
    """Partitions of the training data (0: one per worker)."""

    def __attrs_post_init__(self) -> None:
        if self.workers < 1 or self.threads_per_worker < 1:
            raise ValueError("workers and threads_per_worker must be at least 1")
        problems = parallelism_problems({"workers": self.workers, "threads_per_worker": self.threads_per_worker},
                                        where="strategy")
        if problems:
            raise ValueError(problems[0].split(": ", 1)[1])
