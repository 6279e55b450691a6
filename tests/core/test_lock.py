"""One process per run directory: a second ``engine run --resume`` on a run still training
exits 2 naming the process that holds it; a lock left by a killed process is taken over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.testing.restarts import read_summary, write_kill_plugin

SPEC = """
[run]
name = "r"
plugins = ["killer"]

[loop]
max_steps = {max_steps}
checkpoint_every = "2 steps"

[backend]
use = "testing"
step_seconds = {step_seconds}

[checkpoint]
storage_options = {{ fsync = false }}
"""


def write_spec(tmp_path: Path, max_steps: int, step_seconds: float) -> None:
    write_kill_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.format(max_steps=max_steps, step_seconds=step_seconds))


def test_a_second_process_on_a_training_run_exits_2_naming_the_holder(cli, tmp_path):
    write_spec(tmp_path, max_steps=40, step_seconds=0.05)
    first = subprocess.Popen([sys.executable, "-m", "engine", "run", "spec.toml", "--quiet"], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(tmp_path)}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = tmp_path / "runs/r/.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip()) and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    holder = json.loads(lock.read_text())
    assert holder["pid"] == first.pid

    for args in (["--resume"], ["--resume", "--allow-changes"]):
        second = cli("run", "spec.toml", "--quiet", *args)
        assert second.code == 2, second
        assert len(second.error_lines) == 1 and f"in use by process {first.pid}" in second.error_lines[0], second
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    summary = read_summary(tmp_path / "runs/r")
    assert summary["status"] == "completed" and summary["steps"] == 40
    assert not lock.exists()


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_warning(cli, tmp_path):
    write_spec(tmp_path, max_steps=10, step_seconds=0)
    killed = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "5"})
    assert killed.code == -9, killed
    left = json.loads((tmp_path / "runs/r/.lock").read_text())
    resumed = cli("run", "spec.toml", "--resume", "--quiet")
    assert resumed.code == 0, resumed
    warnings = [line for line in resumed.err.splitlines() if "took over the lock" in line]
    assert len(warnings) == 1 and f"process {left['pid']}" in warnings[0], resumed
    assert read_summary(tmp_path / "runs/r")["steps"] == 10
