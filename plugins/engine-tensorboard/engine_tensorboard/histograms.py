"""Weight and gradient histograms of a torch model; torch is only touched if the backend loaded it."""

from __future__ import annotations

import sys
from typing import Any

from tensorboard.compat.proto.summary_pb2 import HistogramProto


def torch_model(backend: Any) -> Any | None:
    """The backend's ``model`` if it is a ``torch.nn.Module``, else ``None`` (torch never imported here)."""
    model = getattr(backend, "model", None)
    torch = sys.modules.get("torch")
    if model is None or torch is None or not isinstance(model, torch.nn.Module):
        return None
    return model


def weight_histograms(model: Any, bins: int) -> list[tuple[str, HistogramProto]]:
    """``("weights/<name>", proto)`` for every parameter."""
    return [(f"weights/{name}", _histogram(parameter, bins)) for name, parameter in model.named_parameters()]


def gradient_histograms(model: Any, bins: int) -> list[tuple[str, HistogramProto]]:
    """``("grads/<name>", proto)`` for every parameter that has a gradient now.

    Gradients exist only between the backward pass and the optimizer step: call it from
    ``on_before_optimizer_step``.
    """
    return [(f"grads/{name}", _histogram(parameter.grad, bins)) for name, parameter in model.named_parameters()
            if parameter.grad is not None]


def _histogram(tensor: Any, bins: int) -> HistogramProto:
    import torch

    values = tensor.detach().flatten().to("cpu", torch.float64)
    low, high = values.min().item(), values.max().item()
    stats = {"min": low, "max": high, "num": float(values.numel()), "sum": values.sum().item(),
             "sum_squares": values.square().sum().item()}
    if high <= low:
        return HistogramProto(**stats, bucket_limit=[high], bucket=[float(values.numel())])
    counts = torch.histc(values, bins=bins, min=low, max=high)
    limits = torch.linspace(low, high, bins + 1)[1:]
    return HistogramProto(**stats, bucket_limit=limits.tolist(), bucket=counts.tolist())
