"""Choosing the device and making torch deterministic."""

from __future__ import annotations

import os

import torch

from engine import EngineError


def resolve_device(name: str, where: str) -> torch.device:
    """The device for ``device = "auto" | "cpu" | "cuda" | "cuda:N" | "mps"``, or a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "this torch build has no CUDA support" if torch.version.cuda is None \
                else "no CUDA device is visible"
            raise EngineError(f"device {name!r} was asked for, but {build}", where=where,
                              fix='use device = "cpu" or "auto"')
        index = int(name.split(":", 1)[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise EngineError(f"device {name!r} does not exist: {torch.cuda.device_count()} CUDA "
                              "device(s) are visible", where=where, fix="use cuda:0 ... or \"auto\"")
        return torch.device("cuda", index)
    if name == "mps" and not torch.backends.mps.is_available():
        raise EngineError("device 'mps' was asked for, but MPS is not available", where=where,
                          fix='use device = "cpu" or "auto"')
    return torch.device(name)


def make_deterministic() -> None:
    """Deterministic algorithms only; cuBLAS needs its workspace fixed before the first call."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
