"""The device XGBoost trains on: ``auto`` picks CUDA when present, else the CPU; ``cuda`` on a
machine or build without it is refused (XGBoost itself would fall back to the CPU with a warning)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from engine import EngineError

DEVICE_PATTERN = re.compile(r"^(|auto|cpu|cuda(:\d+)?|gpu(:\d+)?|sycl(:\w+)?(:\d+)?)$")


def requested_device(device: str, params: Mapping[str, Any]) -> str:
    """The device the spec asks for: ``[backend] device``, else ``params.device``, else ``""``."""
    return device or str(params.get("device", ""))


#: Counts the CUDA devices the driver shows (honouring ``CUDA_VISIBLE_DEVICES``); prints 0 without one.
_COUNT_DEVICES = """
import ctypes
for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
    try:
        driver = ctypes.CDLL(name)
    except OSError:
        continue
    count = ctypes.c_int(0)
    ok = driver.cuInit(0) == 0 and driver.cuDeviceGetCount(ctypes.byref(count)) == 0
    print(count.value if ok else 0)
    break
else:
    print(0)
"""


def cuda_device_count() -> int:
    """How many CUDA devices the driver shows this process (0 without a driver). Asked in a
    child process: initialising CUDA here would break CUDA in processes forked from this one."""
    try:
        found = subprocess.run([sys.executable, "-c", _COUNT_DEVICES], capture_output=True, text=True,
                               timeout=60, check=False)
        return int(found.stdout.strip() or 0)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 0


def _build_has_cuda() -> bool:
    import xgboost

    return bool(xgboost.build_info().get("USE_CUDA"))


def resolve_device(device: str, params: Mapping[str, Any], where: str) -> str:
    """The ``device`` parameter to train with (``""``: XGBoost's default, the CPU), or a
    :class:`EngineError` when the spec asks for a device this machine or build lacks; ``where``
    is the backend's place in the spec (``backend``)."""
    asked = requested_device(device, params)
    where = f"{where}.device" if device else f"{where}.params.device"
    if not DEVICE_PATTERN.match(asked):
        raise EngineError(f"expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'sycl:...', got {asked!r}",
                          where=where)
    if asked == "auto":
        return "cuda" if cuda_device_count() > 0 and _build_has_cuda() else "cpu"
    if not asked.startswith(("cuda", "gpu")):
        return asked
    if not _build_has_cuda():
        raise EngineError(f"device {asked!r} was asked for, but this xgboost build has no CUDA support",
                          where=where, fix="use device = \"cpu\" or \"auto\", or replace the CPU-only build: "
                                           "pip uninstall -y xgboost-cpu && pip install --force-reinstall xgboost")
    count = cuda_device_count()
    index = int(asked.split(":", 1)[1]) if ":" in asked else 0
    if index >= count:
        found = "no CUDA device is visible" if count == 0 else f"only {count} CUDA device(s) are visible"
        raise EngineError(f"device {asked!r} was asked for, but {found}", where=where,
                        fix="use device = \"cpu\" or \"auto\"")
    return asked


def device_problem(device: str, params: Mapping[str, Any], where: str) -> str | None:
    """For ``engine_check``: the one problem line :func:`resolve_device` would raise, else ``None``."""
    try:
        resolve_device(device, params, where)
    except EngineError as exc:
        return str(exc)
    return None
