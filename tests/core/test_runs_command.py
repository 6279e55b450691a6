"""``engine runs [DIR]`` lists runs: name, status, steps, best metric, age (issue 19, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

from engine._core.lock import RunDirectoryLock
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


def write_spec(tmp_path: Path, extra: str = "", name: str = "spec.toml") -> str:
    write_kill_plugin(tmp_path)
    (tmp_path / name).write_text(SPEC.format(extra=extra))
    return name


def listed(cli, *args: str) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    result = cli("runs", *args, "--json")
    assert result.code == 0, result
    return {row["name"]: row for row in json.loads(result.out)}


def test_runs_lists_each_run_with_status_steps_best_and_age(cli, tmp_path):
    write_spec(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(spec.read_text().replace("[checkpoint]\n", '[checkpoint]\nmonitor = "val/loss"\n'))
    assert cli("run", "spec.toml", "--quiet").code == 0
    assert cli("run", "spec.toml", "--quiet", "--set", "loop.max_steps=8").code == 0
    assert cli("run", "spec.toml", "--quiet", env={"KILL_AT": "6"}).code == -9  # runs/r-3, unfinished

    rows = listed(cli)
    assert list(rows) == ["r", "r-2", "r-3"]
    best = json.loads((tmp_path / "runs/r/summary.json").read_text())["best"]
    assert rows["r"]["status"] == "completed" and rows["r"]["steps"] == "12"
    assert rows["r"]["best"] == f"val/loss={best['value']:.4g} @{best['step']}"
    assert rows["r-2"]["steps"] == "8"
    assert rows["r-3"]["status"] == "unfinished" and rows["r-3"]["kind"] == "run"
    assert rows["r-3"]["steps"] == "4" and rows["r-3"]["best"].startswith("val/loss=")  # from metrics.jsonl
    assert all(row["age"].endswith("s ago") for row in rows.values())

    table = cli("runs")
    assert table.code == 0, table
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "STEPS", "BEST", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == ["r", "r-2", "r-3"]
    assert lines[3].split()[1] == "unfinished"


def test_a_run_whose_lock_is_held_shows_as_running(cli, tmp_path):
    write_spec(tmp_path)
    assert cli("run", "spec.toml", "--quiet", env={"KILL_AT": "6"}).code == -9
    assert listed(cli)["r"]["status"] == "unfinished"
    lock = RunDirectoryLock.acquire(tmp_path / "runs/r", warn=print, notice=print)  # a living holder
    try:
        assert listed(cli)["r"]["status"] == "running"
        assert listed(cli, "runs/r")["r"]["status"] == "running"  # one run directory
    finally:
        lock.release()
    assert listed(cli)["r"]["status"] == "unfinished"


def test_cross_validation_parents_and_tune_studies_are_marked(cli, tmp_path):
    write_spec(tmp_path, "\n[cv]\nfolds = 2\n")
    assert cli("run", "spec.toml", "--quiet").code == 0
    study = tmp_path / "runs/search"  # what engine tune leaves (engine-optuna is not installed here)
    (study / "trials/0").mkdir(parents=True)
    (study / "trials/1").mkdir()
    (study / "study.db").write_bytes(b"")
    (study / "trials.csv").write_text("number,value\n0,0.5\n1,0.25\n")
    (study / "best.toml").write_text("# Trial 1 of study 'search': val/loss = 0.25.\n# A complete spec.\n")

    rows = listed(cli)
    assert rows["r"]["kind"] == "cv" and rows["r"]["status"] == "completed" and rows["r"]["steps"] == "2 folds"
    mean = json.loads((tmp_path / "runs/r/summary.json").read_text())["metrics"]["val/loss"]["mean"]
    assert rows["r"]["best"].startswith(f"val/loss={mean:.4g}±")
    assert rows["search"]["kind"] == "study" and rows["search"]["steps"] == "2 trials"
    assert rows["search"]["best"] == "val/loss = 0.25 (trial 1)"
    table = cli("runs").out
    assert "r (cv)" in table and "search (tune study)" in table


def test_runs_of_a_missing_folder_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("runs", "nowhere")
    assert result.code == 2 and "Traceback" not in result.err, result
    assert len(result.err.strip().splitlines()) == 1 and "'nowhere'" in result.err
    (tmp_path / "runs").mkdir()
    empty = cli("runs")
    assert empty.code == 0 and empty.out.strip() == "no runs in runs", empty
