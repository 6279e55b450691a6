"""`engine tune` on a spec with [cv]: every trial is a cross-validation, valued by its mean."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from optuna_helpers import StudyStorage, read_trials_csv, tune_spec


def test_a_trial_of_a_spec_with_cv_is_a_cross_validation_valued_by_its_mean(cli, tmp_path: Path,
                                                                            study_storage: StudyStorage) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(trials=3, max_steps=10, pruner="none") + "\n[cv]\nfolds = 3\n")
    result = cli("tune", "spec.toml", *study_storage.flags)
    assert result.code == 0, result
    study_dir = tmp_path / "runs" / "study"

    study = optuna.load_study(study_name=study_storage.name, storage=study_storage.url)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    for trial in study.trials:
        run_dir = tmp_path / trial.user_attrs["run_dir"]
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["folds"] == 3 and summary["status"] == "completed"
        for fold in range(3):
            assert json.loads((run_dir / f"fold-{fold}" / "summary.json").read_text())["steps"] == 10
        loss = summary["metrics"]["val/loss"]
        assert len(set(loss["values"])) == 3  # the folds differ, so only the mean can match
        assert trial.value == loss["mean"]
        assert trial.user_attrs["cv_std"] == {"val/loss": loss["std"]}
        assert trial.user_attrs["steps"] == 30  # every fold's steps
    rows = read_trials_csv(study_dir / "trials.csv")
    assert [float(r["val/loss"]) for r in rows] == [t.value for t in study.trials]
    assert "[cv]" in (study_dir / "best.toml").read_text()  # the best spec cross-validates again


# Pruning cross-validated trials: test_tune_cv_pruning.py.
