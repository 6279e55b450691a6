"""A trial's life as a worker drives it (engine_optuna.driver): how it ends in the study, and
who ended it."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from engine_optuna.driver import run_trial
from engine_optuna.storage import open_storage
from optuna.trial import TrialState


class FailedError(Exception):
    pass


@pytest.fixture(params=["sqlite", "journal"])
def study(request: pytest.FixtureRequest, tmp_path: Path) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'study.db'}" if request.param == "sqlite" else str(tmp_path / "study.journal")
    return optuna.create_study(storage=open_storage(url, heartbeat=10, retries=0), study_name="driven")


def test_each_way_a_trial_ends(study: optuna.Study) -> None:
    def pruned(trial: optuna.Trial) -> float:
        raise optuna.TrialPruned()

    def failed(trial: optuna.Trial) -> float:
        raise FailedError()

    def crashed(trial: optuna.Trial) -> float:
        raise RuntimeError("a bug")

    assert run_trial(study, lambda trial: 0.5, catch=(FailedError,))[0].values == [0.5]
    assert run_trial(study, lambda trial: float("nan"), catch=(FailedError,))[0].state == TrialState.FAIL
    assert run_trial(study, pruned, catch=(FailedError,))[0].state == TrialState.PRUNED
    ended, ours = run_trial(study, failed, catch=(FailedError,))
    assert ended.state == TrialState.FAIL and ours
    with pytest.raises(RuntimeError, match="a bug"):
        run_trial(study, crashed, catch=(FailedError,))
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED, TrialState.FAIL, TrialState.FAIL]
    assert all(t.user_attrs.get("worker") for t in study.get_trials())  # each claimed by its worker


def test_a_trial_another_worker_ended_meanwhile_is_not_this_workers(study: optuna.Study) -> None:
    """Its heartbeats were late, another worker marked it FAIL (and queued it again, with
    retries): this worker reports it as it is and does not queue it a second time."""
    def judged_stale(trial: optuna.Trial) -> float:
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # as fail_stale_trials does
        return 0.5

    ended, ours = run_trial(study, judged_stale, catch=(FailedError,))
    assert ended.state == TrialState.FAIL and ended.values is None and not ours
    assert [t.state for t in study.get_trials()] == [TrialState.FAIL]
