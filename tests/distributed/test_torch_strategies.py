"""DDP and FSDP2 in real torchrun/gloo processes on 127.0.0.1, compared with one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, max_difference, metrics_steps, torch_spec, torchrun, weights, write_spec

TOLERANCE = 1e-6


def check_outputs(run_dir: Path, *, steps: int = 12) -> dict:
    """What a user reads after a run: the summary, one metrics log, the model; not torchrun's exit code."""
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == steps, summary
    assert (run_dir / "model" / "final.safetensors").is_file()
    assert not list(run_dir.glob("error*.log"))
    logged = metrics_steps(run_dir)
    assert logged and logged == sorted(logged)  # one writer: records in order, none interleaved
    return summary


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path: Path, single_run: Path,
                                                             strategy: str) -> None:
    write_spec(tmp_path, torch_spec(strategy, strategy))
    done = engine("run", "spec.toml", "--nproc", "2", "--plain", cwd=tmp_path)
    run_dir = tmp_path / "runs" / strategy
    summary = check_outputs(run_dir)
    assert done.returncode == 0, done.stderr
    assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE
    # rank 0 alone reports: one summary block on the console, one line per log record
    assert done.stderr.count("  status ") == 1, done.stderr
    single = json.loads((single_run / "summary.json").read_text())
    # evaluation is reduced over both processes' halves of the validation set
    assert summary["metrics"]["val/loss"] == pytest.approx(single["metrics"]["val/loss"], abs=1e-6)
    assert summary["metrics"]["val/accuracy"] == pytest.approx(single["metrics"]["val/accuracy"])
    assert metrics_steps(run_dir) == metrics_steps(single_run)


def test_fsdp_checkpoint_resumes_with_another_number_of_processes(tmp_path: Path, single_run: Path) -> None:
    write_spec(tmp_path, torch_spec("fsdp", "fsdp", max_steps=8, max_epochs=None))
    first = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path)
    run_dir = tmp_path / "runs" / "fsdp"
    check_outputs(run_dir, steps=8)
    assert first.returncode == 0, first.stderr
    assert (run_dir / "checkpoints" / "step-000000008" / "MANIFEST.json").is_file()

    # the sharded checkpoint of 2 processes continues in 1 (DCP reshards it), to the end
    write_spec(tmp_path, torch_spec("fsdp", "fsdp"))
    second = engine("run", "spec.toml", "--resume", "-q", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    check_outputs(run_dir)
    assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE


def test_torchrun_command_for_many_machines_works_here(tmp_path: Path, single_run: Path) -> None:
    write_spec(tmp_path, torch_spec("ddp", "ddp"))
    done = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    run_dir = tmp_path / "runs" / "ddp"
    check_outputs(run_dir)
    assert done.returncode == 0, done.stderr
    assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_step(tmp_path: Path) -> None:
    spec = torch_spec("stop", "ddp")
    spec["run"]["plugins"] = ["disttoy"]
    spec["strategy"]["sync_every"] = 4
    write_spec(tmp_path, spec)
    done = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "runs" / "stop" / "summary.json").read_text())
    # rank 1 asked at step 5; both agreed at the next boundary (step 6: log cadence and epoch end)
    assert summary["status"] == "stopped" and summary["steps"] == 6, summary
    assert "another process stopped the run" in summary["reason"]
    assert (tmp_path / "runs" / "stop" / "checkpoints" / "step-000000006").is_dir()
