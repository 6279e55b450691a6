"""`engine tune` on the default SQLite storage: pruning, results, reproduction and resume."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import optuna
import pytest
from optuna_helpers import read_trials_csv, tune_spec


def test_tune_prunes_writes_results_and_best_toml_reproduces_the_best_trial(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(trials=8))
    result = cli("tune", "spec.toml")
    assert result.code == 0, result
    study_dir = tmp_path / "runs" / "study"
    assert "best trial" in result.out and "backend.lr" in result.out

    rows = read_trials_csv(study_dir / "trials.csv")
    assert len(rows) == 8
    states = {row["state"] for row in rows}
    assert states <= {"COMPLETE", "PRUNED"} and "PRUNED" in states and "COMPLETE" in states
    best_before = None
    for row in sorted(rows, key=lambda r: int(r["number"])):
        run_dir = tmp_path / row["run_dir"]
        summary = json.loads((run_dir / "summary.json").read_text())
        steps = [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        assert summary["steps"] == int(row["steps"]) == max(steps)
        if row["state"] == "PRUNED":
            assert summary["status"] == "stopped" and "pruned" in summary["reason"]
            assert not summary.get("model") and not (run_dir / "model").exists()  # nobody wants its model
            if int(row["steps"]) < 60:
                assert json.loads((run_dir / "trial.json").read_text())["state"] == "PRUNED"
        else:
            assert summary["steps"] == 60 and summary["status"] == "completed"
            # [tune] export = "improving" (the default): only a trial that beats those before it writes its models
            value = float(row["val/loss"])
            improving = best_before is None or value < best_before
            assert bool(summary.get("model")) == improving == (run_dir / "model").exists(), row
            assert json.loads((run_dir / "trial.json").read_text())["models"] == summary.get("model", {})
            if improving:
                assert (tmp_path / summary["model"]["final"]).exists()
                best_before = value
    assert any(int(row["steps"]) < 60 for row in rows if row["state"] == "PRUNED"), "no trial was stopped early"
    assert sum((tmp_path / r["run_dir"] / "model").exists() for r in rows) < sum(r["state"] == "COMPLETE" for r in rows)

    for plot in ("history", "importances", "parallel_coordinates", "intermediate_values"):
        assert (study_dir / "plots" / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot

    study = optuna.load_study(study_name="study", storage=f"sqlite:///{study_dir / 'study.db'}")
    best = study.best_trial
    best_summary = json.loads((study_dir / "trials" / str(best.number) / "summary.json").read_text())
    assert (tmp_path / best_summary["model"]["final"]).exists()  # the best trial has its models
    assert float(next(r for r in rows if r["number"] == str(best.number))["val/loss"]) == best.value

    reproduced = cli("run", str(study_dir / "best.toml"), "-q")
    assert reproduced.code == 0, reproduced
    evaluations = [json.loads(line) for line in (tmp_path / "runs" / "study-best" / "metrics.jsonl").read_text()
                   .splitlines()]
    # [tune] value = "best" (the default): the trial's best evaluation, found again exactly (same seed, CPU)
    assert min(e["val/loss"] for e in evaluations if "val/loss" in e) == best.value

    # The study resumes from its storage: two more trials, numbered after the first eight.
    again = cli("tune", "spec.toml", "--trials", "10")
    assert again.code == 0, again
    rows = read_trials_csv(study_dir / "trials.csv")
    assert [int(r["number"]) for r in rows] == list(range(10))
    assert {"8", "9"} <= {r["number"] for r in rows if r["state"] in ("COMPLETE", "PRUNED")}


def test_export_all_writes_every_completed_trials_models(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(trials=5, max_steps=20, pruner="none", extra_tune='export = "all"'))
    result = cli("tune", "spec.toml")
    assert result.code == 0, result
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert [r["state"] for r in rows] == ["COMPLETE"] * 5
    for row in rows:
        summary = json.loads((tmp_path / row["run_dir"] / "summary.json").read_text())
        assert (tmp_path / summary["model"]["final"]).exists(), row


@pytest.mark.parametrize("storage", ["default", "journal"])
def test_workers_share_one_study(cli, tmp_path: Path, storage: str) -> None:
    """Two worker processes on one study: the default SQLite file (in write-ahead-log mode, so
    neither waits for the disk nor hits "database is locked"), or a journal file given by path.
    The command is one of them and starts the other; trials of about a second each leave the
    other one time to start before the study's trials are all taken."""
    (tmp_path / "spec.toml").write_text(tune_spec(trials=6, max_steps=20, pruner="none", step_seconds=0.05))
    study_dir = tmp_path / "runs" / "study"
    given = ["--storage", str(tmp_path / "study.journal")] if storage == "journal" else []
    result = cli("tune", "spec.toml", "--workers", "2", *given, timeout=180)
    assert result.code == 0, result
    rows = read_trials_csv(study_dir / "trials.csv")
    assert [r["state"] for r in rows] == ["COMPLETE"] * 6
    if storage == "journal":
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        opened = JournalStorage(JournalFileBackend(str(tmp_path / "study.journal")))
        assert not (study_dir / "study.db").exists()
    else:
        with sqlite3.connect(study_dir / "study.db") as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        opened = f"sqlite:///{study_dir / 'study.db'}"
    workers = {t.user_attrs["worker"] for t in optuna.load_study(study_name="study", storage=opened).trials}
    assert len(workers) == 2, workers  # both processes ran trials


def test_engine_help_does_not_import_optuna(tmp_path: Path) -> None:
    import subprocess

    code = ("import sys\nfrom engine._core.cli.main import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print('optuna' in sys.modules, 'matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "tune" in done.stdout  # the command is there ...
    assert done.stdout.strip().splitlines()[-1] == "False False"  # ... and nothing heavy was imported
