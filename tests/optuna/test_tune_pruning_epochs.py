"""Pruning resources in epochs: ``n_warmup_steps = "2 epochs"`` means two epochs whatever batch
size a trial samples; the trial reports at its completed epochs, once per epoch."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv

TRAIN_SIZE = 48  # batch sizes 4, 8, 12, 16: 12, 6, 4, 3 steps per epoch


def _spec(pruner_options: str, *, pruner: str = "median", trials: int = 10) -> str:
    return f"""
[run]
name = "study"
seed = 0

[loop]
max_epochs = 5
eval_every = "2 steps"
log_every = "2 steps"

[backend]
use = "testing"
dim = 4
train_size = {TRAIN_SIZE}

[tune]
n_trials = {trials}
metric = "val/loss"
direction = "minimize"
pruner = "{pruner}"
pruner_options = {pruner_options}
sampler_options = {{ seed = 1 }}

[tune.space]
"backend.lr" = {{ float = [1e-3, 0.5], log = true }}
"backend.batch_size" = {{ int = [4, 16], step = 4 }}
"backend.noise" = {{ categorical = [0.0, 0.1, 0.5] }}
"""


@pytest.mark.parametrize("storage", ["sqlite", "postgresql"])
def test_a_warmup_in_epochs_never_prunes_before_the_second_epoch_ends(cli, tmp_path: Path, storage: str,
                                                                      request: pytest.FixtureRequest) -> None:
    import optuna

    (tmp_path / "spec.toml").write_text(_spec('{ n_startup_trials = 2, n_warmup_steps = "2 epochs" }'))
    study_dir = tmp_path / "runs" / "study"
    url, flags = f"sqlite:///{study_dir / 'study.db'}", []
    if storage == "postgresql":
        url = request.getfixturevalue("postgres_url")
        flags = ["--storage", url, "--study", "epochs"]
    result = cli("tune", "spec.toml", *flags, timeout=300)
    assert result.code == 0, result
    rows = {int(row["number"]): row for row in read_trials_csv(study_dir / "trials.csv")}
    study = optuna.load_study(study_name="epochs" if flags else "study", storage=url)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned, "no trial was pruned: the test proves nothing"
    assert len({t.params["backend.batch_size"] for t in pruned}) > 1, "pruned trials share one batch size"
    for trial in study.trials:
        steps_per_epoch = TRAIN_SIZE // trial.params["backend.batch_size"]
        steps = int(rows[trial.number]["steps"])
        epochs = steps // steps_per_epoch
        # one report per completed epoch, keyed by the epoch count, not the step
        assert sorted(trial.intermediate_values) == list(range(1, epochs + 1)), (trial.number, steps)
        if trial.state == optuna.trial.TrialState.PRUNED:
            assert steps >= 2 * steps_per_epoch, (trial.number, steps, steps_per_epoch)
            summary = (study_dir / "trials" / str(trial.number) / "summary.json").read_text()
            assert f"pruned by Optuna at epoch {epochs} (step {steps})" in summary
        else:
            assert epochs == 5
    assert "PRUNED" in result.err


def test_each_epoch_reports_the_first_evaluation_at_or_after_its_end(cli, tmp_path: Path) -> None:
    import json

    import optuna

    (tmp_path / "spec.toml").write_text(_spec('{ n_warmup_steps = "1 epoch", interval_steps = "1 epoch" }',
                                              trials=2))
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    study_dir = tmp_path / "runs" / "study"
    study = optuna.load_study(study_name="study", storage=f"sqlite:///{study_dir / 'study.db'}")
    for trial in study.trials:
        steps_per_epoch = TRAIN_SIZE // trial.params["backend.batch_size"]
        records = [json.loads(line) for line in (study_dir / "trials" / str(trial.number) / "metrics.jsonl")
                   .read_text().splitlines()]
        evals = {r["step"]: r["val/loss"] for r in records if "val/loss" in r}
        assert sorted(trial.intermediate_values) == [1, 2, 3, 4, 5]
        for epoch, value in trial.intermediate_values.items():
            first_after = min(step for step in evals if step >= epoch * steps_per_epoch)
            assert value == evals[first_after], (trial.number, epoch)


BAD = {
    "mixed units": ('{ n_warmup_steps = "2 epochs", interval_steps = 1 }', "median",
                    "tune.pruner_options: n_warmup_steps in epochs but interval_steps in steps"),
    "mixed units in hyperband": ('{ min_resource = "1 epoch", max_resource = "200 steps" }', "hyperband",
                                 "min_resource in epochs but max_resource in steps"),
    "a duration": ('{ n_warmup_steps = "5 min" }', "median",
                   "tune.pruner_options.n_warmup_steps: cannot read '5 min' as a number of steps or epochs"),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", ["tune", "check"])
def test_a_bad_pruning_resource_is_one_line_and_exit_2(cli, tmp_path: Path, case: str, command: str) -> None:
    options, pruner, expected = BAD[case]
    (tmp_path / "spec.toml").write_text(_spec(options, pruner=pruner))
    result = cli(command, "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and expected in result.error_lines[0], result
    assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()


def test_hyperband_in_epochs_with_an_automatic_maximum(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(_spec('{ min_resource = "1 epoch", max_resource = "auto" }',
                                              pruner="hyperband", trials=4))
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert len(rows) == 4 and {row["state"] for row in rows} <= {"COMPLETE", "PRUNED"}
