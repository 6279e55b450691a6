"""A study's storage is data: a trial planted in it with a spec path ``[tune.space]`` does not
search never reaches ``best.toml``. (Optuna itself keeps one distribution per parameter in a
study, so a searched path cannot be given other choices.)"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna_helpers import tune_spec

PLANTED = {
    "another path": ({"backend.lr": 0.1, "run.dir": "/elsewhere"},
                     {"backend.lr": FloatDistribution(1e-3, 0.5, log=True),
                      "run.dir": CategoricalDistribution(["/elsewhere"])}, "run.dir"),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_planted_best_trial_is_not_written_to_best_toml(cli, tmp_path: Path, case: str) -> None:
    space = '"backend.lr" = { float = [1e-3, 0.5], log = true }\n"backend.noise" = { categorical = [0.0, 0.1] }\n'
    (tmp_path / "spec.toml").write_text(tune_spec(trials=1, max_steps=10, pruner="none", space=space))
    assert cli("tune", "spec.toml").code == 0
    study_dir = tmp_path / "runs" / "study"
    params, distributions, path = PLANTED[case]
    study = optuna.load_study(study_name="study", storage=f"sqlite:///{study_dir / 'study.db'}")
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=-1.0))
    (study_dir / "best.toml").unlink()

    result = cli("tune", "spec.toml", "--trials", "2")

    assert not (study_dir / "best.toml").exists()
    warning = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert warning and path in warning[0] and "trial 1" in warning[0], result
