"""Exact resume on CPU: a fine-tuning run (full, or LoRA) killed with SIGKILL and resumed ends
with the same bits as one that never stopped."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
import safetensors.torch
import torch
from hf_helpers import base_spec, comparable, copy_task, engine, make_task, summary, write_spec


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task(tmp_path_factory.mktemp("task"))


def killable_spec(**backend: Any) -> dict[str, Any]:
    """20 steps, checkpoints every 6, with dropout (so the RNG state matters) set through model_args."""
    spec = base_spec(model_args={"hidden_dropout_prob": 0.1}, **backend)
    spec["loop"].update({"max_steps": 20, "eval_every": "8 steps"})
    return spec


@pytest.mark.parametrize("backend", [{}, {"lora": {"r": 4, "dropout": 0.1, "target_modules": ["query", "value"]}}],
                         ids=["full", "lora"])
def test_sigkill_then_resume_ends_bit_identical(task: Path, tmp_path: Path, backend: dict[str, Any]) -> None:
    folder = copy_task(task, tmp_path)
    write_spec(folder, killable_spec(**backend))
    whole = engine("run", "spec.toml", "--run-dir", "whole", "-q", cwd=folder)
    assert whole.returncode == 0, whole.stderr
    killed = engine("-p", "engine.testing.kill_at", "run", "spec.toml", "--run-dir", "split", "-q", cwd=folder,
                    env={"KILL_AT": "9"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (folder / "split" / "model" / "final").exists()
    resumed = engine("run", "spec.toml", "--run-dir", "split", "--resume", "-q", cwd=folder)
    assert resumed.returncode == 0, resumed.stderr

    assert summary(folder / "split")["steps"] == 20
    assert comparable(summary(folder / "split")["metrics"]) == comparable(summary(folder / "whole")["metrics"])
    name = "adapter_model.safetensors" if backend else "model.safetensors"
    a = safetensors.torch.load_file(str(folder / "whole" / "model" / "final" / name))
    b = safetensors.torch.load_file(str(folder / "split" / "model" / "final" / name))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
