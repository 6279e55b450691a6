"""What torch adds to a run's ``env.json``: its build (CUDA, cuDNN, ROCm) and the run's devices.

Answered only when the run already imported torch (a torch run has; an XGBoost run beside an
installed engine-torch does not pay a torch import for its record), and device names only once
CUDA is initialised (by the run's model): the record never initialises CUDA itself. The torch
version is in the core's list of distributions either way.
"""

from __future__ import annotations

import sys
from typing import Any


def torch_facts() -> dict[str, Any] | None:
    """``{"version", "cuda", "hip", "cudnn", "devices"}`` of the imported torch, else ``None``."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "cuda"):  # not imported, or half-way through its import
        return None
    facts: dict[str, Any] = {
        "version": str(torch.__version__),
        "cuda": torch.version.cuda,
        "hip": getattr(torch.version, "hip", None),
        "cudnn": None,
        "devices": [],
    }
    if torch.cuda.is_initialized():
        facts["cudnn"] = torch.backends.cudnn.version()
        facts["devices"] = [_device(torch, index) for index in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_built():
        facts["mps"] = bool(mps.is_available())
    return facts


def _device(torch: Any, index: int) -> dict[str, Any]:
    properties = torch.cuda.get_device_properties(index)
    return {"name": properties.name, "capability": f"{properties.major}.{properties.minor}",
            "memory_gib": round(properties.total_memory / 2**30, 1)}
