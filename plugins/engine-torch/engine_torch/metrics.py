"""Validation metrics accumulated on the device; one host transfer per evaluation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

from engine import EngineError
from engine_torch.usercode import resolve


def _predictions(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.ndim == targets.ndim + 1 and outputs.shape[-1] > 1:
        return outputs.argmax(-1)
    return (outputs.reshape(targets.shape) > 0).to(targets.dtype)


def _aligned(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if outputs.shape != targets.shape and outputs.numel() == targets.numel():
        outputs = outputs.reshape(targets.shape)
    return outputs.double(), targets.double()


class Metric:
    """A sum on the device and a count; the value is their ratio."""

    def __init__(self, name: str, device: torch.device):
        self.name = name
        self.total = torch.zeros((), dtype=torch.float64, device=device)
        self.count = 0

    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        return float(self.total.item()) / max(self.count, 1)


class Accuracy(Metric):
    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        self.total += (_predictions(outputs, targets) == targets).sum()
        self.count += targets.numel()


class MeanSquaredError(Metric):
    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        out, tgt = _aligned(outputs, targets)
        self.total += (out - tgt).square().sum()
        self.count += tgt.numel()


class MeanAbsoluteError(Metric):
    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        out, tgt = _aligned(outputs, targets)
        self.total += (out - tgt).abs().sum()
        self.count += tgt.numel()


class MacroF1(Metric):
    """F1 averaged over classes (binary outputs: the F1 of class 1)."""

    def __init__(self, name: str, device: torch.device):
        super().__init__(name, device)
        self.confusion: torch.Tensor | None = None
        self.classes = 0

    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        predictions = _predictions(outputs, targets).long().reshape(-1)
        truth = targets.long().reshape(-1)
        if self.confusion is None:
            self.classes = outputs.shape[-1] if outputs.ndim == targets.ndim + 1 else 2
            self.confusion = torch.zeros(self.classes * self.classes, dtype=torch.long, device=outputs.device)
        self.confusion += torch.bincount(truth * self.classes + predictions, minlength=self.classes ** 2)

    def compute(self) -> float:
        if self.confusion is None:
            return 0.0
        matrix = self.confusion.reshape(self.classes, self.classes).double()
        tp = matrix.diag()
        precision = tp / matrix.sum(0).clamp(min=1)
        recall = tp / matrix.sum(1).clamp(min=1)
        f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
        return float((f1[1] if self.classes == 2 else f1.mean()).item())


class Custom(Metric):
    """A user's ``metric(outputs, targets) -> Tensor`` (a batch mean), weighted by batch size."""

    def __init__(self, name: str, device: torch.device, function: Callable[[Any, Any], Any]):
        super().__init__(name, device)
        self.function = function

    def update(self, outputs: torch.Tensor, targets: torch.Tensor) -> None:
        n = targets.shape[0] if targets.ndim else 1
        self.total += torch.as_tensor(self.function(outputs, targets), device=self.total.device).double() * n
        self.count += n


BUILTIN: dict[str, type[Metric]] = {
    "accuracy": Accuracy, "f1": MacroF1, "mse": MeanSquaredError, "mae": MeanAbsoluteError,
}


def metric_factories(names: list[str], where: str) -> list[Callable[[torch.device], Metric]]:
    """One factory of fresh accumulators per configured metric (import paths resolved now)."""
    factories: list[Callable[[torch.device], Metric]] = []
    for index, name in enumerate(names):
        if name in BUILTIN:
            factories.append(functools.partial(BUILTIN[name], name))
        else:
            function = resolve(name, f"{where}.metrics[{index}]")
            if not callable(function):
                raise EngineError(f"metric {name!r} is a {type(function).__name__}, not a function",
                                  where=f"{where}.metrics[{index}]",
                                  fix="point it at a function metric(outputs, targets) -> Tensor")
            factories.append(functools.partial(_custom, short_name(name), function))
    return factories


def short_name(name: str) -> str:
    """The name a configured metric reports under: ``accuracy``, or ``my_f1`` for ``pkg.mod:my_f1``."""
    return name.rpartition(":")[2].rpartition(".")[2]


def _custom(name: str, function: Callable[..., Any], device: torch.device) -> Metric:
    return Custom(name, device, function)
