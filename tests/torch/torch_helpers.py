"""Specs and helpers for the torch backend's tests (small models, few steps: the suite stays fast)."""

from __future__ import annotations

import copy
import json
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




#: A local plugin (``[run] plugins = ["gradprobe"]``) logging the global 2-norm of the
#: gradients the optimizer is about to use, at every optimizer step.
GRADIENT_PROBE = '''
import torch
from engine import hookimpl


@hookimpl
def on_before_optimizer_step(run, optimizer):
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    run.log({"grad/norm": norm.item()}, step=run.step + 1)
'''


def logged_grad_norms(tmp_path: Path, spec: dict[str, Any]) -> list[tuple[int, float]]:
    """Run ``spec`` through the CLI with the gradient probe: ``(step, norm)`` it logged."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "gradprobe.py").write_text(GRADIENT_PROBE)
    spec = copy.deepcopy(spec)
    spec["run"]["plugins"] = ["gradprobe"]
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["grad/norm"]) for r in records if "grad/norm" in r]
