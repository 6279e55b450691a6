"""engine-torch: the ``torch`` backend of engine.

Load a trained model in one call::

    from engine_torch import load_model
    model = load_model("runs/digits-mlp", model=MLP(hidden=128))  # final weights; which="best" for the best
    model = load_model("runs/digits-mlp", trust_code=True)        # rebuilt from the import path in the file
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from engine_torch.backend import TorchBackend
    from engine_torch.options import TorchOptions

__all__ = ["TorchBackend", "TorchOptions", "load_model"]

#: Face names imported on first use (PEP 562), so importing ``engine_torch`` does not import torch.
_HOMES = {"TorchBackend": "engine_torch.backend", "TorchOptions": "engine_torch.options"}


def load_model(source: str | Path, model: Any = None, *, which: str = "final", device: str = "cpu",
               trust_code: bool = False) -> Any:
    """A trained model from a run directory or a ``.safetensors`` file; see :mod:`engine_torch.export`.

    Imports and calls the model's import path recorded in the file only with ``trust_code=True``.
    """
    from engine_torch.export import load_model as load

    return load(source, model, which=which, device=device, trust_code=trust_code)


def __getattr__(name: str) -> Any:
    """``TorchBackend`` (the ``torch`` backend: subclass it, overriding its extension points
    ``build_model``, ``load_splits``, ``model_state``, ``load_model_state``, to train another
    kind of model with the same loop, precision, strategies and exact resume) and
    ``TorchOptions`` (its options class: subclass it for the options of such a backend)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine_torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
