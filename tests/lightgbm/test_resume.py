"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_tabular.testing import cli_in_process, kill_after_checkpoint, write_slowdown_plugin

from engine.spec.toml_text import dump_toml
from engine.testing import run_spec

BASE = {"objective": "binary", "metric": "binary_logloss", "num_leaves": 15, "verbosity": -1, "num_threads": 1}
SAMPLING = {**BASE, "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8}


def spec(train: Path, valid: Path, params: dict, **backend: object) -> dict:
    return {
        "run": {"seed": 3},
        "loop": {"max_steps": 100, "eval_every": "10 steps", "checkpoint_every": "20 steps"},
        "checkpoint": {"storage_options": {"fsync": False}},  # a kill, not a power loss, is tested
        "backend": {"use": "lightgbm", "params": params, **backend,
                    "data": {"train": str(train), "valid": str(valid)}},
    }


def interrupted_run(tmp_path: Path, run: dict, capfd: pytest.CaptureFixture) -> tuple[Path, str]:
    """Kill ``engine run`` (a subprocess) after its first checkpoint, then resume it with the CLI."""
    run = {**run, "run": {**run["run"], "plugins": [write_slowdown_plugin(tmp_path, 0.005)]}}
    (tmp_path / "spec.toml").write_text(dump_toml(run))
    directory = tmp_path / "interrupted"
    args = ["run", "spec.toml", "--run-dir", str(directory), "--quiet"]
    killed_at = kill_after_checkpoint(args, tmp_path, directory / "checkpoints")
    assert killed_at < 100
    capfd.readouterr()
    status = cli_in_process([*args, "--resume"], tmp_path)
    stderr = capfd.readouterr().err
    assert status == 0, stderr
    return directory, stderr


@pytest.mark.parametrize("params", [BASE, SAMPLING], ids=["no-sampling", "sampling"])
def test_sigkill_and_resume_is_bit_identical(csvs, tmp_path, params, capfd):
    train, valid = csvs
    uninterrupted = run_spec(spec(train, valid, params), tmp_path / "uninterrupted")
    directory, stderr = interrupted_run(tmp_path, spec(train, valid, params), capfd)
    assert "warning" not in stderr
    final = (directory / "model" / "final.txt").read_bytes()
    assert final == Path(uninterrupted.summary["model"]["final"]).read_bytes()


def test_resume_with_sampling_without_replay_warns(csvs, tmp_path, capfd):
    train, valid = csvs
    _, stderr = interrupted_run(tmp_path, spec(train, valid, SAMPLING, exact_resume=False), capfd)
    assert "does not save its sampler's random state" in stderr
    assert "bagging_fraction=0.7" in stderr
