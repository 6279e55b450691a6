"""What the torch backend asks of a ``precision`` component (engine-precision provides them).

Without a ``[precision]`` section the backend trains in ``32-true``: float32 weights, no
autocast, no gradient scaler.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch


@runtime_checkable
class TorchPrecision(Protocol):
    #: The mode's name, such as ``"bf16-mixed"``.
    name: str
    #: Weights and floating-point inputs are converted to this dtype (the ``*-true`` modes), or ``None``.
    param_dtype: torch.dtype | None

    def check_device(self, device: torch.device) -> None:
        """Raise an ``EngineError`` when ``device`` cannot run this mode."""

    def autocast(self, device: torch.device) -> AbstractContextManager[object] | None:
        """The autocast context for forward passes, or ``None``."""

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        """A gradient scaler (``16-mixed``), or ``None``."""
