"""Specs and helpers for the torch backend's tests (small models, few steps: the suite stays fast)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

HERE = Path(__file__).resolve().parent


def base_spec(**backend: Any) -> dict[str, Any]:
    """A 6-steps-per-epoch run of ``torchtoy.Tiny`` on 96 generated rows."""
    spec: dict[str, Any] = {
        "run": {"name": "toy", "seed": 3},
        "loop": {"max_epochs": 3, "eval_every": "1 epoch", "log_every": "2 steps"},
        "backend": {
            "use": "torch", "model": "torchtoy:Tiny", "data": "torchtoy:datasets", "batch_size": 16,
            "optimizer": {"use": "adamw", "lr": 0.01, "weight_decay": 0.05},
            "metrics": ["accuracy"], "device": "cpu", "threads": 1,
        },
    }
    spec["backend"].update(backend)
    return spec


def toml_spec(spec: dict[str, Any]) -> str:
    from engine._core.spec.toml_text import dump_toml

    return dump_toml(copy.deepcopy(spec))


def weights(path: Path) -> dict[str, torch.Tensor]:
    return safetensors.torch.load_file(str(path))


def assert_bit_identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """PYTHONPATH with the test helpers, so ``torchtoy:...`` resolves in a subprocess."""
    return {"PYTHONPATH": os.pathsep.join([str(HERE), str(tmp_path)]), "OMP_NUM_THREADS": "1", **extra}


def engine(*args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python -m engine ARGS`` in ``cwd`` with the test helpers importable."""
    environment = {**os.environ, **cli_env(cwd), **(env or {})}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("engine: error:")]


