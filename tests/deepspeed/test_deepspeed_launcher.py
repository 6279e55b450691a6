"""``engine run --nproc N`` (engine-distributed's launcher) trains a deepspeed spec."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("deepspeed")
pytest.importorskip("engine_distributed")

from ds_helpers import engine, losses, max_difference, summary, torch_spec, weights, write_spec


def test_engine_run_nproc_2_trains_zero2_as_one_process_would(tmp_path: Path, single_run: Path) -> None:
    write_spec(tmp_path, torch_spec("nproc", {"zero_stage": 2}))
    done = engine("run", "spec.toml", "--nproc", "2", "--plain", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "runs as one process" not in done.stderr, done.stderr
    assert done.stderr.count("  status ") == 1, done.stderr  # rank 0 alone reports
    run_dir = tmp_path / "runs" / "nproc"
    assert summary(run_dir)["status"] == "completed" and summary(run_dir)["steps"] == 12
    assert len(losses(run_dir)) == 12
    assert max_difference(weights(run_dir), weights(single_run)) < 1e-5


def test_engine_run_without_a_launcher_trains_as_one_process_and_says_so(tmp_path: Path) -> None:
    write_spec(tmp_path, torch_spec("alone", {"zero_stage": 1}, max_steps=2, max_epochs=None))
    done = engine("run", "spec.toml", "--plain", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "strategy 'deepspeed' runs as one process" in done.stderr and "--nproc N" in done.stderr, done.stderr
    assert summary(tmp_path / "runs" / "alone")["status"] == "completed"
