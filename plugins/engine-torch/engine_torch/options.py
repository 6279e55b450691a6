"""Options of the ``torch`` backend: the ``[backend]`` section of a spec (no torch import here)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import attrs

from engine import NUMERICS, STRUCTURAL, ImportPath, NonNegativeInt, PositiveFloat, PositiveInt, by_key

#: Loss names understood without an import path, and the ``torch.nn.functional`` function of each.
LOSSES: dict[str, str] = {
    "cross_entropy": "cross_entropy",
    "nll": "nll_loss",
    "mse": "mse_loss",
    "mae": "l1_loss",
    "l1": "l1_loss",
    "smooth_l1": "smooth_l1_loss",
    "huber": "huber_loss",
    "bce": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "kl_div": "kl_div",
}
#: ``loss = "model"``: the model computes its own loss from the whole batch.
MODEL_LOSS = "model"
#: Metric names understood without an import path.
METRICS = ("accuracy", "f1", "mse", "mae")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _default_optimizer() -> dict[str, Any]:
    return {"use": "adamw", "lr": 1e-3}


@attrs.define
class TorchOptions:
    """Options of the ``torch`` backend: a PyTorch model trained on map-style datasets."""

    #: Precision modes this backend can run (engine-precision checks a spec against it).
    precisions: ClassVar[tuple[str, ...]] = ("auto", "32-true", "64-true", "16-mixed", "bf16-mixed", "bf16-true")

    model: ImportPath = attrs.field(metadata=STRUCTURAL)
    """``module:attribute`` of a ``torch.nn.Module`` class or a factory returning one."""
    data: ImportPath
    """``module:attribute`` of a function returning ``{"train": ..., "val": ..., "test": ...}``
    (datasets, or ready DataLoaders; ``test`` is optional)."""
    model_args: dict[str, Any] = attrs.field(factory=dict, metadata=STRUCTURAL)
    """Keyword arguments for the model class or factory."""
    data_args: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments for the data function."""
    batch_size: Any = attrs.field(default=32, metadata=NUMERICS)
    """Rows per training micro-batch, or ``"auto"``: the largest that fits (see ``max_batch_size``,
    ``max_memory``), found once before training and recorded in the run's ``spec.toml``."""
    max_batch_size: PositiveInt | None = None
    """With ``batch_size = "auto"``: the largest size tried (default: the training set's size);
    ignored with a number."""
    max_memory: str | None = None
    """With ``batch_size = "auto"``: the memory a training step may use, such as ``"8 GiB"``
    (required on CPU, where it counts the step's tensors; on CUDA an extra cap on its peak)."""
    activation_checkpointing: Any = False
    """``true`` (a Hugging Face model's ``gradient_checkpointing_enable``) or a list of module class
    names whose instances recompute their activations in the backward pass (less memory, more time)."""
    eval_batch_size: PositiveInt | None = None
    """Batch size for evaluation (default: ``batch_size``)."""
    shuffle: bool = True
    """Shuffle the training data each epoch (order seeded from ``run.seed`` and the epoch)."""
    drop_last: bool = False
    """Drop the last, smaller training batch of each epoch."""
    num_workers: NonNegativeInt = 0
    """DataLoader worker processes; 0 fetches batches in the training process."""
    pin_memory: bool = False
    """Pin host memory of batches before copying them to a CUDA device."""
    optimizer: dict[str, Any] = attrs.field(factory=_default_optimizer, metadata=by_key(use=STRUCTURAL))
    """``use`` = any ``torch.optim`` class by name (``adamw``, ``sgd``, ...) and its options."""
    decay_bias_and_norm: bool = False
    """Apply weight decay to biases and normalisation weights too (off by default)."""
    loss: str = "cross_entropy"
    """A name (``cross_entropy``, ``mse``, ``bce_with_logits``, ...), ``"model"`` when the model
    returns its own loss, or an import path of ``loss(outputs, targets) -> Tensor``."""
    step: ImportPath | None = None
    """``module:function`` with ``step(model, batch) -> loss`` (a tensor, or a dict with
    ``loss`` and other scalar tensors) for training that is not plain supervised learning."""
    metrics: list[str] = attrs.field(factory=list)
    """Validation metrics besides ``val/loss``: ``accuracy``, ``f1``, ``mse``, ``mae`` or an
    import path of ``metric(outputs, targets) -> Tensor`` (a batch mean)."""
    accumulate: PositiveInt = attrs.field(default=1, metadata=NUMERICS)
    """Micro-batches per optimizer step (gradient accumulation)."""
    clip_norm: PositiveFloat | None = None
    """Clip the gradients' global 2-norm to this value."""
    clip_value: PositiveFloat | None = None
    """Clip every gradient element to ``[-clip_value, clip_value]``."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    compile: bool = False
    """Compile the model with ``torch.compile``."""
    deterministic: bool = False
    """Use only deterministic algorithms (``torch.use_deterministic_algorithms``)."""
    threads: PositiveInt | None = None
    """``torch.set_num_threads`` for the run (default: torch's choice)."""


def check(options: TorchOptions, path: str) -> list[str]:
    """Problems a spec can have that the options' types alone do not catch."""
    problems = []
    if not DEVICE_PATTERN.match(options.device):
        problems.append(f"{path}.device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', "
                        f"got {options.device!r}")
    name = options.optimizer.get("use")
    if not isinstance(name, str) or not name:
        problems.append(f"{path}.optimizer: missing use = \"<torch.optim class>\" (e.g. \"adamw\", \"sgd\")")
    if ":" not in options.loss and options.loss not in LOSSES and options.loss != MODEL_LOSS:
        problems.append(f"{path}.loss: unknown loss {options.loss!r} — use one of "
                        f"{', '.join(sorted(LOSSES))}, 'model', or an import path 'module:function'")
    for index, metric in enumerate(options.metrics):
        if ":" not in metric and metric not in METRICS:
            problems.append(f"{path}.metrics[{index}]: unknown metric {metric!r} — use one of "
                            f"{', '.join(METRICS)} or an import path 'module:function'")
    if options.clip_norm is not None and options.clip_value is not None:
        problems.append(f"{path}: clip_norm and clip_value are both set — choose one")
    problems += _batch_size_problems(options, path)
    problems += _checkpointing_problems(options.activation_checkpointing, path)
    return problems


AUTO = "auto"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(text: str) -> int | None:
    """``"8 GiB"``, ``"512MB"``, ``"1000"`` as a number of bytes; ``None`` if it is not a size."""
    match = _SIZE.match(text)
    if match is None:
        return None
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _batch_size_problems(options: TorchOptions, path: str) -> list[str]:
    size = options.batch_size
    if size != AUTO and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        return [f"{path}.batch_size: expected an integer > 0 or \"auto\", got {size!r}"]
    problems = []
    if options.max_memory is not None and not parse_bytes(options.max_memory):
        problems.append(f"{path}.max_memory: expected a size such as \"8 GiB\" or \"512 MB\", "
                        f"got {options.max_memory!r}")
    return problems


def _checkpointing_problems(value: Any, path: str) -> list[str]:
    if isinstance(value, bool) or (isinstance(value, list) and value
                                   and all(isinstance(name, str) and name for name in value)):
        return []
    return [f"{path}.activation_checkpointing: expected true, false or a list of module class names "
            f"(such as [\"Block\"]), got {value!r}"]
