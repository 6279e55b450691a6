"""The restart command of a requeued job, ``engine run SPEC --resume``, always works: runs
killed (SIGKILL) before their first checkpoint, once or twice, then restarted with it, all
complete with the same bits as a run that never stopped."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from faults_helpers import final_state, start
from test_backends_kill_resume import spec_text

SPEC = """
[run]
name = "r"
seed = 3
plugins = ["faults_kill"]

[loop]
max_steps = 20
eval_every = "5 steps"
checkpoint_every = "6 steps"
log_every = "2 steps"

[backend]
use = "testing"
noise = 0.3
"""
TRIES = 10


def attempt(cwd: Path, *args: str, kill_at: int = 0) -> tuple[int, str]:
    process = start(cwd, "run", "spec.toml", "--quiet", *args,
                    env={"FAULTS_KILL_AT": str(kill_at)} if kill_at else None)
    _, err = process.communicate(timeout=180)
    return process.returncode, err


def requeued(cwd: Path, kills: list[int]) -> str:
    """A job whose first attempts are killed at ``kills``, each restarted with ``--resume``."""
    code, err = attempt(cwd, kill_at=kills[0])
    assert code == -signal.SIGKILL, err
    for kill_at in kills[1:]:
        code, err = attempt(cwd, "--resume", kill_at=kill_at)
        assert code == -signal.SIGKILL, err
    code, err = attempt(cwd, "--resume")
    assert code == 0, err
    return err


def test_killed_before_the_first_checkpoint_the_restart_command_completes_every_time(tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference/spec.toml").write_text(SPEC)
    assert attempt(tmp_path / "reference")[0] == 0
    expected = final_state(tmp_path / "reference/runs/r")
    rng = random.Random(2026)
    completed = 0
    for index in range(TRIES):
        cwd = tmp_path / f"try-{index}"
        cwd.mkdir()
        (cwd / "spec.toml").write_text(SPEC)
        kills = [rng.randint(1, 5) for _ in range(1 + index % 2)]  # every other job is killed twice
        err = requeued(cwd, kills)
        assert "starting the run from step 0" in err, err
        assert not (cwd / "runs/r/.lock").exists()
        assert final_state(cwd / "runs/r") == expected, f"try {index}: killed at {kills}"
        completed += 1
    assert completed == TRIES


def test_an_xgboost_run_killed_before_its_first_checkpoint_restarts_bit_identical(tmp_path: Path) -> None:
    pytest.importorskip("engine_xgboost")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference/spec.toml").write_text(spec_text("xgboost"))
    assert attempt(tmp_path / "reference")[0] == 0
    (tmp_path / "job").mkdir()
    (tmp_path / "job/spec.toml").write_text(spec_text("xgboost"))  # checkpoints every 2 steps
    requeued(tmp_path / "job", [1])
    assert final_state(tmp_path / "job/runs/r") == final_state(tmp_path / "reference/runs/r")
