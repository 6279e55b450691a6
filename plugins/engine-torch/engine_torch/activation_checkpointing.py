"""``activation_checkpointing``: recompute activations in the backward pass instead of keeping them.

``true`` calls a Hugging Face model's own ``gradient_checkpointing_enable``; a list of class
names wraps every submodule of those classes in torch's non-reentrant ``checkpoint_wrapper``.
Parameter names and ``state_dict`` keys stay as they were (the wrapper strips its prefix), so
checkpoints, exports and resumes are unchanged. The recomputation replays the saved RNG state,
so dropout draws the same masks.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from engine import EngineError


def apply(module: torch.nn.Module, setting: Any, where: str) -> None:
    """Switch activation checkpointing on in ``module`` (in place), as ``setting`` asks."""
    if setting is False or setting is None:
        return
    if setting is True:
        enable = getattr(module, "gradient_checkpointing_enable", None)
        if not callable(enable):
            raise EngineError(f"activation_checkpointing = true needs a model with gradient_checkpointing_enable "
                              f"(Hugging Face); {type(module).__name__} has none", where=where,
                              fix=f"name the module classes to wrap, e.g. activation_checkpointing = "
                                  f"{_suggestion(module)}")
        try:
            enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        except TypeError:  # an older transformers without the keyword
            enable()
        return
    _wrap(module, set(setting), where)


def _wrap(module: torch.nn.Module, names: set[str], where: str) -> None:
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl,
        apply_activation_checkpointing,
        checkpoint_wrapper,
    )

    found = {type(m).__name__ for _, m in module.named_modules() if m is not module}
    missing = sorted(names - found)
    if missing:
        raise EngineError(f"activation_checkpointing names {', '.join(map(repr, missing))}, which the model's "
                          "submodules are not", where=where,
                          fix=f"use classes of the model's submodules: {', '.join(sorted(found)) or 'none'}")
    wrapper = functools.partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    apply_activation_checkpointing(module, checkpoint_wrapper_fn=wrapper,
                                   check_fn=lambda m: type(m).__name__ in names)


def _suggestion(module: torch.nn.Module) -> str:
    """The class of the model's largest repeated block, as a spec value (``["Block"]``)."""
    counts: dict[str, int] = {}
    for _, sub in module.named_modules():
        if sub is not module and any(True for _ in sub.children()):
            counts[type(sub).__name__] = counts.get(type(sub).__name__, 0) + 1
    name = max(counts, key=lambda n: counts[n]) if counts else "Linear"
    return f'["{name}"]'
