"""After SIGKILL and --resume, a reader sees every step once: no gap, no duplicate (Ray #41608)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tbtools import accumulate, scalars, steps_in_file

SPEC = """
[run]
name = "resumed"

[loop]
max_steps = 60
log_every = 2
eval_every = "10 steps"
checkpoint_every = "20 steps"

[backend]
use = "testing"
step_seconds = {step_seconds}

[[tracker]]
use = "tensorboard"
flush_secs = 0.01
"""


def _engine(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.Popen([sys.executable, "-m", "engine", "run", *args, "-q"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, process, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_resume_after_sigkill_continues_the_steps(tmp_path):
    (tmp_path / "full.toml").write_text(SPEC.format(step_seconds=0.0))
    (tmp_path / "killed.toml").write_text(SPEC.format(step_seconds=0.03))
    full = _engine(tmp_path, "full.toml", "--run-dir", "full")
    assert full.wait(timeout=60) == 0

    run_dir = tmp_path / "killed"
    process = _engine(tmp_path, "killed.toml", "--run-dir", "killed")
    checkpoint = run_dir / "checkpoints" / "step-000000020" / "MANIFEST.json"
    _wait_for(checkpoint.exists, process, "the checkpoint at step 20")

    def written_past_checkpoint() -> bool:
        files = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
        return any(step > 24 for step in steps_in_file(files[0]))

    _wait_for(written_past_checkpoint, process, "events past the checkpoint")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not (run_dir / "checkpoints" / "step-000000040").exists()

    resumed = _engine(tmp_path, "killed.toml", "--run-dir", "killed", "--resume")
    assert resumed.wait(timeout=60) == 0, resumed.stderr.read() if resumed.stderr else ""
    assert len(list((run_dir / "tensorboard").glob("events.out.tfevents.*"))) == 2

    reader, reference = accumulate(run_dir / "tensorboard"), accumulate(tmp_path / "full" / "tensorboard")
    for tag in ("train/loss", "lr", "val/loss"):
        got, expected = scalars(reader, tag), scalars(reference, tag)
        assert [s for s, _ in got] == [s for s, _ in expected], tag  # each step once, none missing
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-6), tag
    assert [s for s, _ in scalars(reader, "train/loss")] == list(range(2, 61, 2))
    assert [s for s, _ in scalars(reader, "perf/steps_per_sec")] == list(range(2, 61, 2))
    assert len(reader.Tensors("spec")) == 1
