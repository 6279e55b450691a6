"""Optimizers by name: any ``torch.optim`` class, biases and normalisation weights undecayed."""

from __future__ import annotations

import difflib
from typing import Any

import torch
from torch import nn

from engine import EngineError, UserCodeError
from engine_torch.usercode import resolve, user_traceback

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, nn.RMSNorm)


def optimizer_classes() -> dict[str, type[torch.optim.Optimizer]]:
    """Every optimizer class in ``torch.optim`` by lower-case name (``adamw``, ``sgd``, ...)."""
    return {name.lower(): cls for name, cls in vars(torch.optim).items()
            if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)
            and cls is not torch.optim.Optimizer}


def param_groups(module: nn.Module, *, decay_bias_and_norm: bool) -> list[dict[str, Any]]:
    """Parameters with weight decay, then biases and normalisation weights with ``weight_decay = 0``."""
    params = [p for p in module.parameters() if p.requires_grad]
    if decay_bias_and_norm:
        return [{"params": params}]
    undecayed: set[int] = set()
    for child in module.modules():
        for name, param in child.named_parameters(recurse=False):
            if isinstance(child, _NORMS) or name == "bias" or param.ndim < 2:
                undecayed.add(id(param))
    decay = [p for p in params if id(p) not in undecayed]
    no_decay = [p for p in params if id(p) in undecayed]
    groups: list[dict[str, Any]] = []
    if decay:
        groups.append({"params": decay})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups


def build_optimizer(config: dict[str, Any], module: nn.Module, *, decay_bias_and_norm: bool,
                    where: str) -> torch.optim.Optimizer:
    """The optimizer named by ``config["use"]`` (a torch.optim class or an import path) with its options."""
    options = dict(config)
    name = str(options.pop("use", ""))
    if ":" in name:
        cls = resolve(name, f"{where}.optimizer")
        if not callable(cls):
            raise EngineError(f"optimizer {name!r} names a value of type {type(cls).__name__}, not an optimizer class",
                              where=f"{where}.optimizer.use",
                              fix="point it at a torch.optim.Optimizer subclass or a function returning one")
    else:
        classes = optimizer_classes()
        cls = classes.get(name.lower())
        if cls is None:
            close = difflib.get_close_matches(name.lower(), list(classes), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise EngineError(f"unknown optimizer {name!r}", where=f"{where}.optimizer.use",
                              fix=f"{hint}torch.optim has: {', '.join(sorted(classes))}")
    groups = param_groups(module, decay_bias_and_norm=decay_bias_and_norm)
    try:
        optimizer = cls(groups, **options)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"optimizer {name!r} refused its options: {exc}", where=f"{where}.optimizer",
                          fix=f"see the documentation of {_qualified(cls)}") from None
    except Exception as exc:  # the user's own optimizer failed
        raise UserCodeError(f"optimizer {name!r} raised {type(exc).__name__}: {exc}",
                            user_traceback=user_traceback(exc)) from None
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise EngineError(f"optimizer {name!r} returned {type(optimizer).__name__}, not a torch.optim.Optimizer",
                          where=f"{where}.optimizer.use",
                          fix="point it at a torch.optim.Optimizer subclass or a function returning one")
    return optimizer


def _qualified(obj: Any) -> str:
    """``module.name`` of a class or function, or its repr when it has neither."""
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{name}" if module and name else repr(obj)
