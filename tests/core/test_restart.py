"""``engine run SPEC --resume`` is the one command for every attempt of a requeued job:
it continues from the newest committed checkpoint, and starts the run when there is none."""

from __future__ import annotations

import json
from pathlib import Path

from engine.testing.restarts import read_summary, write_kill_plugin

SPEC = """
[run]
name = "r"
plugins = ["killer"]

[loop]
max_steps = 12
eval_every = "4 steps"
log_every = "1 steps"
{checkpoint_every}

[backend]
use = "testing"

[checkpoint]
storage_options = {{ fsync = false }}
"""


def write_spec(tmp_path: Path, checkpoint_every: str = "") -> None:
    write_kill_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.format(checkpoint_every=checkpoint_every))


def logged_steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_a_run_killed_before_its_first_checkpoint_starts_again_with_resume(cli, tmp_path):
    write_spec(tmp_path)
    killed = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "5"})
    assert killed.code == -9, killed
    run_dir = tmp_path / "runs/r"
    assert (run_dir / "spec.toml").exists() and not (run_dir / "checkpoints").exists()

    plain = cli("run", "spec.toml", "--quiet", "--run-dir", "runs/r")  # never writes into an existing one
    assert plain.code == 2 and "already exists" in plain.err, plain

    restarted = cli("run", "spec.toml", "--resume", "--quiet")
    assert restarted.code == 0, restarted
    notices = [line for line in restarted.err.splitlines() if "no committed checkpoint" in line]
    assert len(notices) == 1 and "starting the run from step 0" in notices[0], restarted
    summary = read_summary(run_dir)
    assert summary["status"] == "completed" and summary["steps"] == 12
    steps = logged_steps(run_dir)
    assert steps == sorted(steps) and steps[-1] == 12  # the dead attempt's lines are gone
    assert not (run_dir / ".lock").exists()


def test_resume_continues_from_the_newest_checkpoint_and_again_after_the_end(cli, tmp_path):
    write_spec(tmp_path, 'checkpoint_every = "3 steps"')
    assert cli("run", "spec.toml", "--quiet", env={"KILL_AT": "8"}).code == -9
    resumed = cli("run", "spec.toml", "--resume", "--plain")
    assert resumed.code == 0, resumed
    assert "resumed from" in resumed.err and "step 6" in resumed.err, resumed
    steps = logged_steps(tmp_path / "runs/r")
    assert steps == sorted(steps) and set(steps) == set(range(1, 13))
    again = cli("run", "spec.toml", "--resume", "--quiet")  # a requeue after the end: nothing to do
    assert again.code == 0, again
    assert read_summary(tmp_path / "runs/r")["steps"] == 12


def test_resume_refuses_a_finished_run_without_checkpoints(cli, tmp_path):
    write_spec(tmp_path)
    assert cli("run", "spec.toml", "--quiet", "--set", "checkpoint.on_exit=false").code == 0
    before = sorted(p.name for p in (tmp_path / "runs/r").iterdir())
    result = cli("run", "spec.toml", "--resume", "--quiet", "--set", "checkpoint.on_exit=false")
    assert result.code == 2 and "holds a completed run" in result.err, result
    assert "Traceback" not in result.err
    assert sorted(p.name for p in (tmp_path / "runs/r").iterdir()) == before


def test_resume_never_empties_a_directory_that_is_not_a_run_directory(cli, tmp_path):
    write_spec(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("keep me")
    result = cli("run", "spec.toml", "--resume", "--run-dir", "mine", "--quiet")
    assert result.code == 2 and "not a run directory" in result.err, result
    assert (tmp_path / "mine/notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_a_run_directory_that_cannot_be_created_is_one_line(cli, tmp_path):
    write_spec(tmp_path)
    (tmp_path / "taken").write_text("a file")
    for args in (["--run-dir", "taken"], ["--set", 'run.dir="taken"'], ["--run-dir", "taken", "--resume"]):
        result = cli("run", "spec.toml", "--quiet", *args)
        assert result.code == 2, result
        assert "Traceback" not in result.err and len(result.error_lines) == 1, result
        assert "taken" in result.error_lines[0], result
    assert (tmp_path / "taken").read_text() == "a file"


def test_cross_validation_resumes_with_the_same_command(cli, tmp_path):
    write_spec(tmp_path, 'checkpoint_every = "3 steps"')
    with (tmp_path / "spec.toml").open("a") as spec:
        spec.write("\n[cv]\nfolds = 2\n")
    # fold 0 finishes (12 steps), fold 1 is killed at its step 5 (global step count restarts)
    first = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "5"})
    assert first.code == -9, first
    for _ in range(2):
        result = cli("run", "spec.toml", "--resume", "--quiet")
        assert result.code == 0, result
    summary = read_summary(tmp_path / "runs/r")
    assert summary["status"] == "completed" and summary["folds"] == 2
