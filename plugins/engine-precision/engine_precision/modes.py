"""The precision modes: what the torch backend converts, autocasts and scales in each."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import torch

from engine import EngineError


class Mode:
    """A precision mode as :class:`engine_torch.precision.TorchPrecision` describes it."""

    name = ""
    param_dtype: torch.dtype | None = None
    autocast_dtype: torch.dtype | None = None
    #: The low-precision dtype the device must support.
    needs: torch.dtype | None = None

    def __init__(self, options: Any = None):
        self.options = options

    def check_device(self, device: torch.device) -> None:
        if self.needs is not None and not supports(device, self.needs):
            dtype = str(self.needs).removeprefix("torch.")
            raise EngineError(f"device {str(device)!r} cannot compute in {dtype}, which {self.name!r} needs",
                              where="precision.use",
                              fix='use "32-true" (remove [precision]), or a device that supports it')

    def autocast(self, device: torch.device) -> AbstractContextManager[object] | None:
        if self.autocast_dtype is None:
            return None
        return torch.autocast(device_type=device.type, dtype=self.autocast_dtype)

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        return None

    def advice(self, device: torch.device) -> str | None:
        """A warning for a mode that runs on ``device`` but serves it badly, or ``None``."""
        return None


class Single(Mode):
    """float32 weights and arithmetic: what the backend does without a ``[precision]`` section."""

    name = "32-true"


class Double(Mode):
    name = "64-true"
    param_dtype = torch.float64
    needs = torch.float64


class BFloat16Mixed(Mode):
    name = "bf16-mixed"
    autocast_dtype = torch.bfloat16
    needs = torch.bfloat16


class BFloat16True(Mode):
    name = "bf16-true"
    param_dtype = torch.bfloat16
    needs = torch.bfloat16


class Float16Mixed(Mode):
    name = "16-mixed"
    autocast_dtype = torch.float16
    needs = torch.float16

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        return torch.amp.GradScaler(device.type)

    def advice(self, device: torch.device) -> str | None:
        if device.type != "cpu":
            return None
        return ("precision.use: '16-mixed' on CPU is slower than '32-true' and its gradient scaler brings "
                "nothing there — use 'bf16-mixed' or 'auto' on CPU")


class Auto(Mode):
    """``bf16-mixed`` where the device computes in bfloat16 natively (CUDA from Ampere on),
    ``32-true`` elsewhere (CPU, MPS, older GPUs): decided when the device is known."""

    name = "auto"

    def __init__(self, options: Any = None):
        super().__init__(options)
        self.chosen: Mode = Single(options)

    def check_device(self, device: torch.device) -> None:
        native = device.type == "cuda" and supports(device, torch.bfloat16)
        self.chosen = BFloat16Mixed(self.options) if native else Single(self.options)

    def autocast(self, device: torch.device) -> AbstractContextManager[object] | None:
        return self.chosen.autocast(device)

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        return self.chosen.grad_scaler(device)


def supports(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether ``device`` computes in ``dtype``: CUDA asks the driver, other devices try a matmul."""
    if device.type == "cuda":
        if dtype == torch.bfloat16:
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        return True
    if device.type == "mps" and dtype == torch.float64:
        return False
    try:
        a = torch.ones(2, 2, device=device, dtype=dtype, requires_grad=True)
        (a @ a).sum().backward()
    except (RuntimeError, TypeError):
        return False
    return True
