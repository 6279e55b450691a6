"""Helpers for the deepspeed tests: specs, CLI runs (torchrun on 127.0.0.1), weights, metrics."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def torch_spec(name: str, strategy: dict[str, Any] | None, **loop: Any) -> dict[str, Any]:
    """Two epochs of 6 steps (global batch 16) of ``dstoy.Tiny``; checkpoints every 4 steps."""
    spec: dict[str, Any] = {
        "run": {"name": name, "seed": 3},
        "loop": {"max_epochs": 2, "eval_every": "1 epoch", "log_every": "1 step",
                 "checkpoint_every": "4 steps", **loop},
        "backend": {"use": "torch", "model": "dstoy:Tiny", "data": "dstoy:datasets", "batch_size": 16,
                    "optimizer": {"use": "adamw", "lr": 0.01, "weight_decay": 0.01},
                    "metrics": ["accuracy"], "device": "cpu", "threads": 1},
        "checkpoint": {"keep_last": 10},
    }
    spec["loop"] = {key: value for key, value in spec["loop"].items() if value is not None}
    if strategy is not None:
        spec["strategy"] = {"use": "deepspeed", "timeout": 60, **strategy}
    return spec


def write_spec(directory: Path, spec: dict[str, Any], file: str = "spec.toml") -> Path:
    from engine._core.spec.toml_text import dump_toml

    path = directory / file
    path.write_text(dump_toml(copy.deepcopy(spec)))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(cwd: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(cwd)]), "OMP_NUM_THREADS": "1",
            "MASTER_ADDR": "127.0.0.1"}


def engine(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m engine ARGS`` in ``cwd`` with the test helpers importable."""
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=environment(cwd),
                          capture_output=True, text=True, timeout=timeout, check=False)


def torchrun(*args: str, cwd: Path, nproc: int = 2, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``torchrun … -m engine ARGS``: ``nproc`` processes on 127.0.0.1."""
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc-per-node={nproc}",
               "--master-addr=127.0.0.1", f"--master-port={free_port()}", "-m", "engine", *args]
    return subprocess.run(command, cwd=cwd, env=environment(cwd), capture_output=True, text=True,
                          timeout=timeout, check=False)


def losses(run_dir: Path) -> list[float]:
    """``train/loss`` of every record of a run's metrics log, in order."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["metrics"]["train/loss"] if "metrics" in r else r["train/loss"]
            for r in records if "train/loss" in r.get("metrics", r)]


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())  # type: ignore[no-any-return]


def weights(run_dir: Path) -> dict[str, Any]:
    import safetensors.torch

    return safetensors.torch.load_file(str(run_dir / "model" / "final.safetensors"))


def max_difference(a: dict[str, Any], b: dict[str, Any]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
