"""Pruning cross-validated trials: the folds report on one axis (fold k's step s at s plus the
lengths of folds 0..k-1), a pruned fold stops the trial, and its later folds never start."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna_helpers import read_trials_csv

FOLDS, STEPS, EVERY = 3, 20, 5  # fold k's evaluation at step s is reported at k × 20 + s


def _spec(*, loop: str = f'max_steps = {STEPS}\neval_every = "{EVERY} steps"', pruner_options: str = "",
          trials: int = 8) -> str:
    """Half the values of the space are bad: with lr = 0.0005 the loss barely moves."""
    return f"""
[run]
name = "study"
seed = 0

[loop]
{loop}

[backend]
use = "testing"
dim = 4

[cv]
folds = {FOLDS}

[tune]
n_trials = {trials}
metric = "val/loss"
direction = "minimize"
sampler = "random"
sampler_options = {{ seed = 1 }}
pruner = "median"
pruner_options = {{ n_startup_trials = 2{pruner_options} }}

[tune.space]
"backend.lr" = {{ categorical = [0.2, 0.0005] }}
"""


def _study(tmp_path: Path) -> list[optuna.trial.FrozenTrial]:
    url = f"sqlite:///{tmp_path / 'runs' / 'study' / 'study.db'}"
    return optuna.load_study(study_name="study", storage=url).trials


def _summary(path: Path) -> dict:  # type: ignore[type-arg]
    return dict(json.loads((path / "summary.json").read_text()))


def test_a_bad_trial_is_pruned_in_its_first_fold_and_its_other_folds_never_start(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(_spec())
    checked = cli("check", "spec.toml")
    assert checked.code == 0, checked  # a pruner with [cv] is no longer refused
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    trials = _study(tmp_path)
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert pruned and complete, [t.state.name for t in trials]
    rows = {int(row["number"]): row for row in read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")}
    for trial in complete:
        run_dir = tmp_path / trial.user_attrs["run_dir"]
        summary = _summary(run_dir)
        assert summary["status"] == "completed" and summary["folds"] == FOLDS
        assert [_summary(run_dir / f"fold-{k}")["steps"] for k in range(FOLDS)] == [STEPS] * FOLDS
        # every fold's evaluations, one after another on the trial's axis
        assert sorted(trial.intermediate_values) == list(range(EVERY, FOLDS * STEPS + 1, EVERY))
        fold_1_step_5 = trial.intermediate_values[STEPS + EVERY]
        assert fold_1_step_5 == pytest.approx(_metric_at(run_dir / "fold-1", EVERY))
        assert trial.value == pytest.approx(sum(min(_losses(run_dir / f"fold-{k}")) for k in range(FOLDS)) / FOLDS)
    for trial in pruned:
        run_dir = tmp_path / trial.user_attrs["run_dir"]
        assert trial.params["backend.lr"] == 0.0005
        assert sorted(p.name for p in run_dir.glob("fold-*")) == ["fold-0"]  # folds 1 and 2 never started
        summary = _summary(run_dir)
        assert summary["status"] == "stopped" and summary["folds"] == 1, summary
        assert summary["reason"].startswith("pruned by Optuna at fold 0 step "), summary
        assert _summary(run_dir / "fold-0")["status"] == "stopped"
        assert max(trial.intermediate_values) < STEPS
        assert int(rows[trial.number]["steps"]) < STEPS
        assert json.loads((run_dir / "trial.json").read_text())["state"] == "PRUNED"
    assert "PRUNED" in result.err


def test_a_warmup_longer_than_a_fold_prunes_in_the_second_fold(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(_spec(pruner_options=f", n_warmup_steps = {STEPS + EVERY}", trials=5))
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    pruned = [t for t in _study(tmp_path) if t.state.name == "PRUNED"]
    assert pruned, "no trial was pruned: the test proves nothing"
    for trial in pruned:
        run_dir = tmp_path / trial.user_attrs["run_dir"]
        assert sorted(p.name for p in run_dir.glob("fold-*")) == ["fold-0", "fold-1"]  # fold 2 never started
        assert _summary(run_dir / "fold-0")["status"] == "completed"
        fold_1 = _summary(run_dir / "fold-1")
        assert fold_1["status"] == "stopped" and fold_1["steps"] == EVERY
        assert _summary(run_dir)["reason"].startswith(f"pruned by Optuna at fold 1 step {EVERY} ")
        assert sorted(trial.intermediate_values) == list(range(EVERY, STEPS + EVERY + 1, EVERY))
        assert trial.user_attrs["steps"] == STEPS + EVERY


def test_in_epochs_fold_k_reports_its_epoch_e_at_k_times_the_epochs_of_a_fold_plus_e(cli, tmp_path: Path) -> None:
    loop = 'max_epochs = 3\neval_every = "1 epoch"'
    (tmp_path / "spec.toml").write_text(_spec(loop=loop, pruner_options=', n_warmup_steps = "1 epoch"', trials=5))
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    trials = _study(tmp_path)
    states = {t.state.name for t in trials}
    assert states == {"COMPLETE", "PRUNED"}, states
    for trial in trials:
        if trial.state.name == "COMPLETE":
            assert sorted(trial.intermediate_values) == list(range(1, 3 * FOLDS + 1))
        else:
            assert sorted(trial.intermediate_values) == [1]  # the warm-up's end, in fold 0
            summary = _summary(tmp_path / trial.user_attrs["run_dir"])
            assert summary["reason"].startswith("pruned by Optuna at fold 0 epoch 1 (step "), summary


def test_a_pruned_cross_validation_without_a_fold_length_is_refused_before_any_trial(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(_spec(loop='max_time = 5.0\neval_every = "5 steps"'))
    for command in ("check", "tune"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and "Traceback" not in result.err, result
        assert "tune.pruner: a pruned cross-validation ([cv]) needs each fold's length" in result.error_lines[0]
        assert "set loop.max_steps or loop.max_epochs" in result.error_lines[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def _losses(fold_dir: Path) -> list[float]:
    return [record["val/loss"] for record in _metrics(fold_dir) if "val/loss" in record]


def _metric_at(fold_dir: Path, step: int) -> float:
    return next(float(r["val/loss"]) for r in _metrics(fold_dir) if r.get("step") == step and "val/loss" in r)


def _metrics(fold_dir: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (fold_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
