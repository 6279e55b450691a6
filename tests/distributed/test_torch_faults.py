"""A killed DDP run resumes exactly; a crashed worker ends the run quickly with one line per worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, environment, max_difference, torch_spec, weights, write_spec


def test_a_killed_ddp_run_resumes_to_the_same_weights(tmp_path: Path, single_run: Path) -> None:
    spec = torch_spec("killed", "ddp")
    spec["backend"]["model"] = "disttoy:Slow"
    spec["loop"]["checkpoint_every"] = "2 steps"
    write_spec(tmp_path, spec)
    run_dir = tmp_path / "runs" / "killed"
    first = subprocess.Popen([sys.executable, "-m", "engine", "run", "spec.toml", "--nproc", "2", "-q"],
                             cwd=tmp_path, env=environment(tmp_path), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = run_dir / "checkpoints" / "step-000000004" / "MANIFEST.json"
    deadline = time.monotonic() + 120
    while not manifest.exists() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the launcher and both workers, at once
    first.wait(timeout=30)
    assert manifest.exists()
    assert not (run_dir / "model" / "final.safetensors").exists(), "the run finished before the kill"

    second = engine("run", "spec.toml", "--resume", "--nproc", "2", "-q", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert max_difference(weights(run_dir), weights(single_run)) < 1e-6


def test_a_crashed_worker_ends_the_run_with_a_clear_error(tmp_path: Path) -> None:
    spec = torch_spec("crash", "ddp")
    spec["backend"]["model"] = "disttoy:CrashOnRank1"
    write_spec(tmp_path, spec)
    started = time.monotonic()
    done = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path, timeout=120)
    assert time.monotonic() - started < 90
    assert done.returncode == 7, done.stderr
    assert "engine: error: worker rank 1 exited with status 7" in done.stderr
    assert "Traceback" not in done.stderr


def test_nproc_without_a_strategy_is_one_clear_error(tmp_path: Path) -> None:
    write_spec(tmp_path, torch_spec("alone", None))
    done = engine("run", "spec.toml", "--nproc", "2", cwd=tmp_path)
    assert done.returncode == 2
    assert "engine: error: strategy: this process is one of 2 (WORLD_SIZE) but the spec selects no strategy" \
        in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_ddp_with_a_boosted_tree_backend_is_reported_by_check(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(
        '[loop]\nmax_steps = 2\n[backend]\nuse = "testing"\n[strategy]\nuse = "fsdp"\n')
    done = engine("check", "spec.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "strategy: 'fsdp' trains the torch backend, not 'testing'" in done.stderr, done.stderr
