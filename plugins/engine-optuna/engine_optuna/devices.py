"""``[tune] devices``: one GPU per worker process, as Ray Tune's ``resources_per_trial``.

Worker i of the workers ``engine tune --workers N`` starts sees device i mod G alone, through
``CUDA_VISIBLE_DEVICES`` in its environment. The G devices are the list in ``[tune] devices``,
or with ``"auto"`` those the command may use: its own ``CUDA_VISIBLE_DEVICES`` if set (never
widened), else the GPUs ``nvidia-smi -L`` lists; none found (or ``"none"``) leaves the
workers' environment alone. Torch is never imported for this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

VARIABLE = "CUDA_VISIBLE_DEVICES"
_HELP = 'write "auto", "none" or a list of device ids such as ["0", "1"]'


def devices_problems(devices: Any) -> list[str]:
    """One line if ``tune.devices`` is neither ``"auto"``, ``"none"`` nor a list of ids."""
    if devices in ("auto", "none"):
        return []
    if isinstance(devices, list) and devices and all(_is_id(d) for d in devices):
        return []
    return [f"tune.devices: cannot use {devices!r} — {_HELP}"]


def worker_devices(devices: Any, environ: dict[str, str] | None = None) -> list[str]:
    """The device ids the workers share out (empty: leave their environment alone)."""
    if isinstance(devices, list):
        return [str(d).strip() for d in devices]
    if devices != "auto":
        return []
    environ = dict(os.environ) if environ is None else environ
    if VARIABLE in environ:
        visible = [d.strip() for d in environ[VARIABLE].split(",") if d.strip()]
        return [] if visible and visible[0] == "-1" else visible  # "" or "-1": no GPU at all
    return nvidia_smi_gpus()


def nvidia_smi_gpus() -> list[str]:
    """The indices of the GPUs ``nvidia-smi -L`` lists (none without the tool or a driver)."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return []
    try:
        listed = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if listed.returncode != 0:
        return []
    count = sum(line.startswith("GPU ") for line in listed.stdout.splitlines())  # MIG lines are indented
    return [str(i) for i in range(count)]


def device_for(worker: int, devices: list[str]) -> str | None:
    """Worker ``worker``'s device: the list's entry ``worker`` mod its length."""
    return devices[worker % len(devices)] if devices else None


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    return isinstance(value, str) and bool(value.strip()) and "," not in value
