"""A plain ``engine run`` of a name that exists makes the next free run directory
(``runs/<name>-2``, ``-3``, …); ``--resume`` continues the newest (issue 19, item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.testing.restarts import write_kill_plugin

SPEC = """
[run]
name = "r"
plugins = ["killer"]

[loop]
max_steps = 12
eval_every = "4 steps"
checkpoint_every = "4 steps"

[backend]
use = "testing"

[checkpoint]
storage_options = {{ fsync = false }}
{extra}
"""


def write_spec(tmp_path: Path, extra: str = "") -> None:
    write_kill_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.format(extra=extra))


def first_line(result) -> str:  # type: ignore[no-untyped-def]
    """The console's first line (on stderr), after any ``engine:`` notice: it names the run directory."""
    return next(line for line in result.err.splitlines() if not line.startswith("engine:"))


def summary(run_dir: Path) -> dict:  # type: ignore[type-arg]
    return dict(json.loads((run_dir / "summary.json").read_text()))


def test_running_a_spec_again_makes_the_next_run_directory_and_names_it(cli, tmp_path):
    write_spec(tmp_path)
    first = cli("run", "spec.toml", "--plain")
    assert first.code == 0, first
    assert first_line(first) == "run 'r' → runs/r", first
    recorded = (tmp_path / "runs/r/summary.json").read_bytes()

    for number in (2, 3):
        again = cli("run", "spec.toml", "--plain", "--set", "backend.lr=0.01")
        assert again.code == 0, again
        assert first_line(again) == f"run 'r' → runs/r-{number}", again
        assert summary(tmp_path / f"runs/r-{number}")["status"] == "completed"
        assert summary(tmp_path / f"runs/r-{number}")["model"]["final"] == f"runs/r-{number}/model/final.json"
    assert (tmp_path / "runs/r/summary.json").read_bytes() == recorded  # never written into
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["r", "r-2", "r-3"]


def test_resume_continues_the_newest_run_of_the_name(cli, tmp_path):
    write_spec(tmp_path)
    assert cli("run", "spec.toml", "--quiet").code == 0
    killed = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "6"})
    assert killed.code == -9, killed
    assert not (tmp_path / "runs/r-2/summary.json").exists()
    before = (tmp_path / "runs/r/summary.json").read_bytes()

    resumed = cli("run", "spec.toml", "--plain", "--resume")
    assert resumed.code == 0, resumed
    assert "runs/r-2" in first_line(resumed), resumed
    assert summary(tmp_path / "runs/r-2")["status"] == "completed"
    assert summary(tmp_path / "runs/r-2")["steps"] == 12
    assert (tmp_path / "runs/r/summary.json").read_bytes() == before
    assert not (tmp_path / "runs/r-3").exists()


def test_an_explicit_run_dir_is_refused_when_it_exists_and_resumed_when_asked(cli, tmp_path):
    write_spec(tmp_path)
    assert cli("run", "spec.toml", "--quiet").code == 0
    assert cli("run", "spec.toml", "--quiet").code == 0  # runs/r-2, the newest
    refused = cli("run", "spec.toml", "--quiet", "--run-dir", "runs/r")
    assert refused.code == 2 and "already exists" in refused.err and "--resume" in refused.err, refused
    assert not (tmp_path / "runs/r-3").exists()

    older = cli("run", "spec.toml", "--plain", "--resume", "--run-dir", "runs/r")
    assert older.code == 0, older
    assert first_line(older) == "run 'r' → runs/r", older


def test_a_run_whose_set_up_fails_leaves_no_new_directory(cli, tmp_path):
    write_spec(tmp_path)
    assert cli("run", "spec.toml", "--quiet").code == 0
    failed = cli("run", "spec.toml", "--quiet", "--set", 'checkpoint.monitor="val/nothing"')
    assert failed.code == 2, failed
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["r"]


def test_a_failed_set_up_of_a_first_run_leaves_no_runs_folder(cli, tmp_path):
    write_spec(tmp_path)
    failed = cli("run", "spec.toml", "--quiet", "--set", 'checkpoint.monitor="val/nothing"')
    assert failed.code == 2, failed
    assert not (tmp_path / "runs").exists()


def test_two_runs_started_at_once_never_share_a_directory(tmp_path):
    write_spec(tmp_path)
    command = [sys.executable, "-m", "engine", "run", "spec.toml", "--quiet"]
    env = {"PYTHONPATH": str(tmp_path)}
    import os

    processes = [subprocess.Popen(command, cwd=tmp_path, env={**os.environ, **env}, stderr=subprocess.PIPE,
                                  text=True) for _ in range(3)]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["r", "r-2", "r-3"]
    for name in ("r", "r-2", "r-3"):
        assert summary(tmp_path / "runs" / name)["steps"] == 12
        steps = [json.loads(line)["step"] for line in (tmp_path / "runs" / name / "metrics.jsonl").read_text()
                 .splitlines()]
        assert steps == sorted(steps)  # one run's log, not two interleaved


def test_a_cross_validation_run_again_gets_its_own_parent_directory(cli, tmp_path):
    write_spec(tmp_path, "\n[cv]\nfolds = 2\n")
    assert cli("run", "spec.toml", "--quiet").code == 0
    again = cli("run", "spec.toml", "--quiet")
    assert again.code == 0, again
    assert summary(tmp_path / "runs/r-2")["status"] == "completed"
    assert sorted(p.name for p in (tmp_path / "runs/r-2").iterdir() if p.is_dir()) == ["fold-0", "fold-1"]
    assert summary(tmp_path / "runs/r-2/fold-1")["model"]["final"] == "runs/r-2/fold-1/model/final.json"
    resumed = cli("run", "spec.toml", "--quiet", "--resume")  # the newest parent: both folds are done
    assert resumed.code == 0, resumed
    assert not (tmp_path / "runs/r-3").exists()


def test_a_new_run_never_saves_among_the_checkpoints_of_an_earlier_one(cli, tmp_path):
    """The spec names its checkpoint storage: the next run directory would share it."""
    write_spec(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(spec.read_text().replace("{ fsync = false }", '{ fsync = false, url = "shared" }'))
    assert cli("run", "spec.toml", "--quiet").code == 0
    saved = sorted(p.name for p in (tmp_path / "shared").iterdir())
    again = cli("run", "spec.toml", "--quiet")
    assert again.code == 2 and "already holds checkpoints" in again.err and "--resume" in again.err, again
    assert len(again.err.strip().splitlines()) == 1, again
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["r"]
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == saved
