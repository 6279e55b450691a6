"""What a run leaves behind: effective spec, environment, metrics, summary, model; and cross-validation."""

from __future__ import annotations

import json
import tomllib

from engine import hookimpl
from engine.testing import run_spec


def test_run_directory_records(cli, tmp_path):
    (tmp_path / "spec.toml").write_text("""
[run]
name = "records"

[loop]
max_steps = 12
eval_every = "4 steps"

[backend]
use = "testing"

[checkpoint]
monitor = "val/loss"
storage_options = { fsync = false }
""")
    result = cli("run", "spec.toml", "--quiet", "--set", 'run.description="api_token=abc"')
    assert result.code == 0, result
    run_dir = tmp_path / "runs/records"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "checkpoints", "env.json", "metrics.jsonl", "model", "spec.toml", "summary.json"]
    spec = tomllib.loads((run_dir / "spec.toml").read_text())
    assert spec["loop"]["max_steps"] == 12 and spec["backend"]["use"] == "testing"
    env = json.loads((run_dir / "env.json").read_text())
    assert env["python"].count(".") == 2 and env["engine"] == "0.1.0"
    assert {"pluggy", "attrs", "cattrs"} <= set(env["engine_requires"])
    assert env["plugins"]["testing-backend"] == "built-in"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert summary["best"]["metric"] == "val/loss"
    assert summary["model"]["final"].endswith("model/final.json")
    assert (tmp_path / summary["model"]["best"]).exists()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "val/loss" in r] == [4, 8, 12]


def test_secrets_are_redacted_in_the_recorded_spec(tmp_path):
    spec = {"backend": {"use": "testing"}, "loop": {"max_steps": 2},
            "checkpoint": {"storage_options": {"fsync": False}}, "run": {"description": "x"}}
    from engine._core.spec.toml_text import redact

    assert redact({"storage_options": {"secret_access_key": "k", "key": 1, "token": "t"}}) == {
        "storage_options": {"secret_access_key": "***", "key": "***", "token": "***"}}
    result = run_spec(spec, tmp_path / "r")
    assert result.status == "completed"


def test_cross_validation_runs_every_fold_and_reports_mean_and_std(tmp_path):
    spec = {"backend": {"use": "testing", "train_size": 40, "val_size": 20}, "loop": {"max_epochs": 2},
            "cv": {"folds": 3}}
    result = run_spec(spec, tmp_path / "cv")
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "cv/summary.json").read_text())
    assert summary["status"] == "completed" and summary["folds"] == 3
    loss = summary["metrics"]["val/loss"]
    assert len(loss["values"]) == 3 and len(set(loss["values"])) == 3
    assert min(loss["values"]) <= loss["mean"] <= max(loss["values"]) and loss["std"] > 0
    for fold in range(3):
        fold_summary = json.loads((tmp_path / f"cv/fold-{fold}/summary.json").read_text())
        assert fold_summary["fold"] == [fold, 3]


class SharedObserver:
    """Records ``run.shared`` of every run it sees, and leaves something in it."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    @hookimpl
    def on_run_start(self, run) -> None:
        self.seen.append(run.shared)
        run.shared.setdefault("loaded", run.fold)


def test_the_folds_of_a_cross_validation_share_run_shared(tmp_path):
    observer = SharedObserver()
    spec = {"backend": {"use": "testing"}, "loop": {"max_steps": 2}, "cv": {"folds": 3}}
    assert run_spec(spec, tmp_path / "cv", plugins=[observer]).exit_code == 0
    assert len(observer.seen) == 3 and all(s is observer.seen[0] for s in observer.seen)
    assert observer.seen[0] == {"loaded": (0, 3)}  # what the first fold left, the others found

    lone = SharedObserver()
    run_spec({"backend": {"use": "testing"}, "loop": {"max_steps": 2}}, tmp_path / "lone", plugins=[lone])
    run_spec({"backend": {"use": "testing"}, "loop": {"max_steps": 2}}, tmp_path / "lone2", plugins=[lone])
    assert lone.seen[0] is not lone.seen[1]  # separate runs share nothing


def test_fold_indices_are_seeded_disjoint_and_stratified():
    from engine._core.cv import fold_indices

    labels = [0] * 30 + [1] * 10
    seen = []
    for fold in range(5):
        train, val = fold_indices(40, 5, fold, seed=7, labels=labels)
        assert sorted(train + val) == list(range(40))
        assert sum(labels[i] for i in val) == 2  # each fold gets 2 of the 10 positives
        seen += val
        assert fold_indices(40, 5, fold, seed=7, labels=labels) == (train, val)
    assert sorted(seen) == list(range(40))


def test_records_written_by_two_processes_at_once_stay_whole(tmp_path):
    """Two processes that write one record together (two `engine tune` workers sharing a run
    folder both write best.toml as the study ends) never fail and leave one of them whole."""
    import subprocess
    import sys

    writer = ("import sys; from pathlib import Path; from engine._core.rundir import write_atomic\n"
              "for _ in range(300): write_atomic(Path(sys.argv[1]), sys.argv[2] * 1000)\n")
    target = tmp_path / "best.toml"
    processes = [subprocess.Popen([sys.executable, "-c", writer, str(target), mark], stderr=subprocess.PIPE, text=True)
                 for mark in ("a", "b")]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert target.read_text() in ("a" * 1000, "b" * 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.toml"]
