"""From a batch to a loss: a named loss, a loss by import path, the model's own loss, or a step function.

Batch conventions: a ``(inputs, targets)`` pair (more elements: ``model(*batch[:-1])``, targets
last); a dict is passed as keyword arguments, with targets under ``targets`` or ``labels``.
A model may return a tensor, or a dict with ``loss`` (then that loss is used) and ``logits``
or ``outputs`` (then metrics use them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812

from engine import EngineError
from engine_torch.options import LOSSES, MODEL_LOSS
from engine_torch.usercode import resolve

#: ``forward(batch) -> (loss, outputs, targets)``; outputs and targets may be ``None``.
Forward = Callable[[Any], tuple[torch.Tensor, Any, Any]]


def loss_function(name: str, where: str) -> Callable[[Any, Any], torch.Tensor] | None:
    """The loss for ``name`` (``None`` for ``"model"``)."""
    if name == MODEL_LOSS:
        return None
    if ":" in name:
        function = resolve(name, f"{where}.loss")
        if not callable(function):
            raise EngineError(f"loss {name!r} is not callable", where=where,
                              fix="point loss at a function loss(outputs, targets) -> Tensor")
        return function  # type: ignore[no-any-return]
    if name not in LOSSES:
        raise EngineError(f"unknown loss {name!r}", where=f"{where}.loss",
                          fix=f"use one of {', '.join(sorted(LOSSES))}, 'model', or 'module:function'")
    return getattr(F, LOSSES[name])  # type: ignore[no-any-return]


def split(batch: Any) -> tuple[tuple[Any, ...], dict[str, Any], Any]:
    """Positional inputs, keyword inputs and targets of a batch."""
    if isinstance(batch, dict):
        targets = batch.get("targets", batch.get("labels"))
        return (), batch, targets
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return (batch[0],), {}, None
        return tuple(batch[:-1]), {}, batch[-1]
    return (batch,), {}, None


def model_outputs(outputs: Any) -> Any:
    """What metrics compare with the targets: the tensor, or a dict's ``logits``/``outputs``."""
    if isinstance(outputs, dict):
        return outputs.get("logits", outputs.get("outputs"))
    if isinstance(outputs, (tuple, list)) and outputs:
        return outputs[0]
    return outputs


def make_forward(model: Callable[..., Any], loss: str, where: str) -> Forward:
    """``forward(batch) -> (loss, outputs, targets)`` for the configured loss."""
    function = loss_function(loss, where)
    if function is None:
        def own_loss(batch: Any) -> tuple[torch.Tensor, Any, Any]:
            args, kwargs, targets = split(batch)
            out = model(*(batch if isinstance(batch, (tuple, list)) else args), **kwargs)
            if isinstance(out, dict):
                return out["loss"], model_outputs(out), targets
            return out, None, None
        return own_loss

    def supervised(batch: Any) -> tuple[torch.Tensor, Any, Any]:
        if type(batch) is tuple or type(batch) is list:
            if len(batch) == 2:
                inputs, targets = batch
                out = model(inputs)
            else:
                targets = batch[-1]
                out = model(*batch[:-1])
        else:
            args, kwargs, targets = split(batch)
            out = model(*args, **kwargs)
        if isinstance(out, dict) and "loss" in out:
            return out["loss"], model_outputs(out), targets
        outputs = model_outputs(out)
        return function(outputs, targets), outputs, targets
    return supervised


def make_step_forward(path: str, model: Any, where: str) -> Forward:
    """``forward`` for a custom ``step(model, batch)`` returning a loss or a dict with ``loss``."""
    step = resolve(path, f"{where}.step")

    def forward(batch: Any) -> tuple[torch.Tensor, Any, Any]:
        result = step(model, batch)
        if isinstance(result, dict):
            return result["loss"], result.get("outputs"), result.get("targets")
        return result, None, None
    return forward


def shape_of(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"{tuple(value.shape)} {str(value.dtype).removeprefix('torch.')}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shape_of(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(shape_of(v) for v in value) + ")"
    return type(value).__name__
