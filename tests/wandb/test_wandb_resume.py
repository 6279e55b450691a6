"""After SIGKILL and ``--resume`` the same W&B run goes on: one run id, each step once, none
missing, and the killed process's W&B service does not stay behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

from wbtools import offline_runs, pid_alive, wandb_services

from engine.testing import resume_after_kill

SPEC = """
[run]
name = "resumed"

[loop]
max_steps = 30
log_every = "1 step"
eval_every = "5 steps"
checkpoint_every = "10 steps"

[backend]
use = "testing"

[[tracker]]
use = "wandb"
"""


def _logged(run_dir: Path, key: str) -> list[tuple[int, float]]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r[key]) for r in records if key in r]


def _orphaned_services() -> list[int]:
    """W&B services whose process is gone (they should notice and exit)."""
    return [pid for pid, parent in wandb_services().items() if not pid_alive(parent) and pid_alive(pid)]


def _kill_and_resume(tmp_path: Path) -> tuple[list[int], Path]:
    """Run killed at step 15 (checkpoint at 10) and resumed; the steps the killed segment holds."""
    run_dir = tmp_path / "run"
    runs = resume_after_kill(SPEC, run_dir, kill_at=15)
    assert runs.killed.code == -9 and runs.resumed.resumed_from == 10, runs.killed
    assert runs.resumed.status == "completed"
    assert "warning" not in runs.resumed_err, runs.resumed_err

    first, second = offline_runs(run_dir / "wandb")  # the killed segment, then the resumed one
    assert first.run_id == second.run_id
    killed_steps = [step for step, _ in first.history("train/loss")]
    for key in ("train/loss", "lr", "val/loss", "val/mae"):
        assert first.history(key) + second.history(key) == _logged(run_dir, key), key  # each step once
    assert [step for step, _ in first.history("train/loss") + second.history("train/loss")] == list(range(1, 31))
    assert first.exit_code is None and second.exit_code == 0
    assert second.summary["engine"]["status"] == "completed"
    assert second.summary["val/loss"] == runs.resumed.summary["metrics"]["val/loss"]

    deadline = time.monotonic() + 15
    while _orphaned_services() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _orphaned_services() == []
    return killed_steps, run_dir


def test_resume_sends_what_the_killed_process_lost(tmp_path, monkeypatch):
    """W&B's service writes its file every 15 s: the killed segment holds none of the steps."""
    monkeypatch.chdir(tmp_path)
    killed_steps, _ = _kill_and_resume(tmp_path)
    assert killed_steps == []  # so steps 1..10 came from metrics.jsonl, 11.. from the resumed run


def test_resume_skips_what_the_killed_process_sent_past_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB__TRANSACTION_LOG_FLUSH_INTERVAL", "0.01")  # W&B writes at once
    killed_steps, _ = _kill_and_resume(tmp_path)
    assert max(killed_steps) > 10, killed_steps  # past the checkpoint: the resumed run skips those
