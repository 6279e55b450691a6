"""engine-torch: the ``torch`` backend of engine.

Load a trained model in one call::

    from engine_torch import load_model
    model = load_model("runs/digits-mlp", model=MLP(hidden=128))  # final weights; which="best" for the best
    model = load_model("runs/digits-mlp", trust_code=True)        # rebuilt from the import path in the file
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["load_model"]


def load_model(source: str | Path, model: Any = None, *, which: str = "final", device: str = "cpu",
               trust_code: bool = False) -> Any:
    """A trained model from a run directory or a ``.safetensors`` file; see :mod:`engine_torch.export`.

    Imports and calls the model's import path recorded in the file only with ``trust_code=True``.
    """
    from engine_torch.export import load_model as load

    return load(source, model, which=which, device=device, trust_code=trust_code)
