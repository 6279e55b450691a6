"""A trial's writes in one transaction (engine_optuna.trial_writes) keep Optuna's rules: what
other workers read is what Optuna's own calls would have written, a held key is replaced, and
a finished trial is refused."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from engine_optuna.storage import open_storage
from engine_optuna.trial_writes import write_trial


@pytest.fixture(params=["sqlite", "journal"])
def study(request: pytest.FixtureRequest, tmp_path: Path) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'study.db'}" if request.param == "sqlite" else str(tmp_path / "study.journal")
    return optuna.create_study(storage=open_storage(url, heartbeat=10, retries=0))


def test_writes_read_back_as_optuna_wrote_them(study: optuna.Study) -> None:
    trial = study.ask()
    write_trial(study._storage, trial._trial_id, user_attrs={"worker": "host:1", "steps": 30, "nested": {"a": [1]}},
                intermediate={10: 0.5, 20: float("inf"), 30: float("nan")})
    write_trial(study._storage, trial._trial_id, user_attrs={"steps": 40}, intermediate={10: 0.25})  # held: replaced
    study.tell(trial, 0.1)
    frozen = study.trials[0]
    assert frozen.user_attrs == {"worker": "host:1", "steps": 40, "nested": {"a": [1]}}
    assert frozen.intermediate_values[10] == 0.25 and frozen.intermediate_values[20] == math.inf
    assert math.isnan(frozen.intermediate_values[30])


def test_a_finished_trial_is_refused(study: optuna.Study) -> None:
    trial = study.ask()
    study.tell(trial, 0.1)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        write_trial(study._storage, trial._trial_id, user_attrs={"steps": 1})
    assert study.trials[0].user_attrs == {}
