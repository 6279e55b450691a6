"""Exact resume: a run killed with SIGKILL, or stopped mid-epoch, and resumed ends bit-identical."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import torchtoy
from torch_helpers import assert_bit_identical, base_spec, engine, toml_spec, weights

from engine.testing import run_spec


def killable_spec() -> dict[str, Any]:
    """Dropout, AdamW and a shuffled order: every piece of state matters for the final bits."""
    spec = base_spec()
    spec["run"]["plugins"] = ["torchtoy_kill"]
    spec["loop"].update({"max_epochs": 4, "checkpoint_every": "4 steps"})
    return spec


@pytest.fixture
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("uninterrupted")
    (directory / "spec.toml").write_text(toml_spec(killable_spec()))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=directory)
    assert result.returncode == 0, result.stderr
    return directory / "run" / "model" / "final.safetensors"


def test_sigkill_then_resume_ends_bit_identical(tmp_path: Path, uninterrupted: Path) -> None:
    kill_at = 10  # mid-epoch 1 (6 steps per epoch), after the checkpoint at step 8, itself mid-epoch
    (tmp_path / "spec.toml").write_text(toml_spec(killable_spec()))
    killed = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path,
                    env={"TORCHTOY_KILL_AT": str(kill_at)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "run/model/final.safetensors").exists()
    resumed = engine("run", "spec.toml", "--run-dir", "run", "--resume", "-q", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["steps"] == 24 and summary["status"] == "completed"
    assert_bit_identical(weights(tmp_path / "run/model/final.safetensors"), weights(uninterrupted))


def test_mid_epoch_resume_fetches_no_batch_twice(tmp_path: Path) -> None:
    spec = base_spec(data="torchtoy:recording_datasets")  # records the training set's fetches
    spec["loop"]["max_epochs"] = 2

    def training_batches() -> list[list[int]]:
        # setup runs the model once on rows 0..15 to check outputs against the loss: not a training batch
        fetched = [b for b in torchtoy.FETCHED if b != list(range(16))]
        torchtoy.FETCHED.clear()
        return fetched

    torchtoy.FETCHED.clear()
    run_spec(spec, tmp_path / "whole")
    whole = training_batches()
    run_spec({**spec, "loop": {**spec["loop"], "max_steps": 9}}, tmp_path / "split")  # 6 steps per epoch
    before = training_batches()
    result = run_spec(spec, tmp_path / "split", resume=True)
    after = training_batches()

    assert result.status == "completed" and result.summary["steps"] == 12
    assert len(whole) == 12 and len(before) == 9 and len(after) == 3
    assert before + after == whole
    assert_bit_identical(weights(tmp_path / "split/model/final.safetensors"),
                         weights(tmp_path / "whole/model/final.safetensors"))


def test_resume_restores_the_optimizer_and_schedule_position(tmp_path: Path) -> None:
    spec = base_spec(optimizer={"use": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True})
    run_spec(spec, tmp_path / "whole")
    run_spec({**spec, "loop": {**spec["loop"], "max_epochs": 1}}, tmp_path / "split")
    run_spec(spec, tmp_path / "split", resume=True)
    assert_bit_identical(weights(tmp_path / "split/model/final.safetensors"),
                         weights(tmp_path / "whole/model/final.safetensors"))
