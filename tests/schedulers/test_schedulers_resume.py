"""A run killed with SIGKILL after a checkpoint and resumed continues the exact lr curve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SPEC = """
[loop]
max_steps = 60
log_every = 1
eval_every = "2 steps"
checkpoint_every = "10 steps"

[backend]
use = "testing"
lr = 0.3
noise = 1.0
step_seconds = {step_seconds}

[scheduler]
{scheduler}
"""

SCHEDULERS = {
    # Stateful: reductions at steps 16, 24, 30, ... depend on the best value and counters
    # kept in the checkpoint at step 20.
    "reduce-on-plateau": 'use = "reduce-on-plateau"\npatience = 1\ngamma = 0.5\nwarmup_steps = 4',
    "warmup-cosine-per-epoch": 'use = "warmup-cosine"\nwarmup_epochs = 2\ninterval = "epoch"',
}


def _engine(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.Popen([sys.executable, "-m", "engine", *args, "-q"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _records(run_dir: Path) -> list[dict[str, float]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in lines]


def _committed(run_dir: Path, step: int) -> bool:
    return (run_dir / "checkpoints" / f"step-{step:09d}" / "MANIFEST.json").exists()


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_sigkill_and_resume_gives_the_same_curve(tmp_path, scheduler):
    for name, seconds in (("full", 0.0), ("killed", 0.03)):
        (tmp_path / f"{name}.toml").write_text(SPEC.format(step_seconds=seconds, scheduler=SCHEDULERS[scheduler]))

    full = _engine("run", "full.toml", "--run-dir", "full", cwd=tmp_path)
    assert full.wait(timeout=60) == 0, full.stderr.read() if full.stderr else ""

    killed_dir = tmp_path / "killed"
    process = _engine("run", "killed.toml", "--run-dir", "killed", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not _committed(killed_dir, 20) and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert not _committed(killed_dir, 60)

    resumed = _engine("run", "killed.toml", "--run-dir", "killed", "--resume", cwd=tmp_path)
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read() if resumed.stderr else ""

    expected, got = _records(tmp_path / "full"), _records(killed_dir)
    lr = [(r["step"], r["lr"]) for r in got if "lr" in r]
    assert [s for s, _ in lr] == list(range(1, 61))  # no step missing or repeated
    assert lr == [(r["step"], r["lr"]) for r in expected if "lr" in r]
    assert got == expected  # losses too: the training itself followed the same path
    assert len({v for _, v in lr}) > 4  # the curve actually moves
    summary = json.loads((killed_dir / "summary.json").read_text())
    assert summary["metrics"] == json.loads((tmp_path / "full" / "summary.json").read_text())["metrics"]
    assert (killed_dir / "model" / "final.json").read_text() == (tmp_path / "full" / "model" / "final.json").read_text()
