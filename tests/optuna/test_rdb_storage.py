"""The engine's RDB storage (engine_optuna.rdb_storage) writes in plain statements what Optuna's
own RDB storage reads back as it would have written it, reads the trials it reads, field by
field, in every state, and refuses what it refuses; on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from engine_optuna.storage import open_storage
from optuna.storages import RDBStorage
from optuna.trial import TrialState


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'study.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _fill(study: optuna.Study) -> list[dict[str, object]]:
    """Trials in every state, with every kind of parameter, value and attribute; the values
    each of the first three trials drew."""
    drawn = []
    for number in range(3):
        trial = study.ask()
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trial.suggest_int("depth", 2, 8, step=2)
        trial.suggest_categorical("kind", ["a", None, 3])
        drawn.append(trial.params)
        trial.set_user_attr("worker", {"host": "h", "pid": number})
        trial.set_user_attr("shape", (number, 2))  # read back as JSON: a list
        study._storage.set_trial_system_attr(trial._trial_id, "seed", number)
        for step, value in ((10, 0.5), (20, math.inf), (30, math.nan)):
            study._storage.set_trial_intermediate_value(trial._trial_id, step, value)
        if number == 0:
            study.tell(trial, [0.25, -math.inf])
        elif number == 1:
            study.tell(trial, state=TrialState.PRUNED)
    study.tell(study.ask(), state=TrialState.FAIL)
    study.enqueue_trial({"lr": 0.01})  # WAITING
    return drawn


def _same(ours: list[optuna.trial.FrozenTrial], theirs: list[optuna.trial.FrozenTrial]) -> None:
    assert len(ours) == len(theirs)
    for mine, optunas in zip(ours, theirs, strict=True):
        mine_fields, optuna_fields = dict(vars(mine)), dict(vars(optunas))
        mine_values = mine_fields.pop("intermediate_values")
        optuna_values = optuna_fields.pop("intermediate_values")
        assert mine_fields == optuna_fields
        assert list(mine_values) == list(optuna_values)
        for step, value in mine_values.items():  # NaN is not equal to itself
            assert value == optuna_values[step] or (math.isnan(value) and math.isnan(optuna_values[step]))


def test_reads_equal_optunas(url: str) -> None:
    storage = open_storage(url, heartbeat=10, retries=0)
    study = optuna.create_study(storage=storage, study_name="reads", directions=["minimize", "maximize"])
    drawn = _fill(study)
    backend = storage._backend if hasattr(storage, "_backend") else storage
    plain = RDBStorage(url)
    study_id = study._study_id
    assert type(backend).__name__ == "EngineRDBStorage"
    # what it wrote, as Optuna reads it
    written = plain.get_all_trials(study_id)
    assert [t.state for t in written] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING,
                                          TrialState.FAIL, TrialState.WAITING]
    assert [t.number for t in written] == [0, 1, 2, 3, 4]
    assert [t.params for t in written[:3]] == drawn
    assert written[0].values == [0.25, -math.inf] and written[1].values is None
    assert all(t.datetime_complete is not None and t.datetime_start is not None
               and t.datetime_complete >= t.datetime_start for t in (written[0], written[1], written[3]))

    _same(backend._get_trials(study_id, None, set(), -1), plain._get_trials(study_id, None, set(), -1))
    for states in ((TrialState.COMPLETE,), (TrialState.RUNNING, TrialState.WAITING), ()):
        _same(backend._get_trials(study_id, states, set(), -1), plain._get_trials(study_id, states, set(), -1))
    ids = [t._trial_id for t in plain.get_all_trials(study_id)]
    for included, above in (({ids[0], ids[2]}, ids[2]), (set(), ids[1]), ({ids[4]}, ids[1])):
        _same(backend._get_trials(study_id, None, included, above), plain._get_trials(study_id, None, included, above))
    for trial_id in ids:
        _same([backend.get_trial(trial_id)], [plain.get_trial(trial_id)])
    with pytest.raises(KeyError):
        backend.get_trial(max(ids) + 100)
    with pytest.raises(KeyError):
        backend._get_trials(study_id + 100, None, set(), -1)
    plain.engine.dispose()


def test_a_trial_ended_by_another_worker_reads_ended(url: str) -> None:
    """The storage answers reads of the trials it runs from what it wrote; one that another
    worker ended meanwhile (FAIL: its heartbeats stopped) reads as that worker left it, and
    this worker cannot tell it."""
    storage = open_storage(url, heartbeat=10, retries=0)
    study = optuna.create_study(storage=storage, study_name="ended-elsewhere")
    trial = study.ask()
    trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    assert storage.get_trial(trial._trial_id).state == TrialState.RUNNING
    other = RDBStorage(url)
    other.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    ended = storage.get_trial(trial._trial_id)
    assert ended.state == TrialState.FAIL and ended.params == trial.params
    with pytest.raises(ValueError, match="Cannot tell a FAIL trial"):
        study.tell(trial, 0.5)
    assert other.get_trial(trial._trial_id).values is None
    other.engine.dispose()


def test_refuses_what_optuna_refuses(url: str) -> None:
    storage = open_storage(url, heartbeat=10, retries=0)
    study = optuna.create_study(storage=storage, study_name="refusals")
    first = study.ask()
    first.suggest_float("lr", 1e-4, 1e-1, log=True)
    study.tell(first, 0.5)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_param(first._trial_id, "depth", 1, optuna.distributions.IntDistribution(1, 3))
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_state_values(first._trial_id, TrialState.COMPLETE, [0.1])
    with pytest.raises(ValueError, match="Cannot tell a COMPLETE trial"):
        study.tell(first, 0.1)
    second = study.ask()
    with pytest.raises(ValueError, match=r"compatib|Cannot set different distribution kind"):
        second.suggest_categorical("lr", ["a", "b"])  # the study sampled lr as a float
    second.suggest_float("lr", 1e-4, 1e-1, log=True)
    with pytest.raises(KeyError):
        storage.set_trial_state_values(second._trial_id + 100, TrialState.COMPLETE, [0.1])
    assert RDBStorage(url).get_trial(first._trial_id).values == [0.5]


def test_a_trial_is_claimed_as_it_is_made(url: str) -> None:
    """With a claim set (a worker sets its own), a new trial holds the claim and its first
    heartbeat as Optuna reads them; a queued trial, made from a template, is not claimed."""
    import sqlalchemy as sa
    from optuna.storages._rdb import models

    storage = open_storage(url, heartbeat=10, retries=0)
    study = optuna.create_study(storage=storage, study_name="claims")
    storage.claim = {"worker": "host:123"}
    made = study.ask()
    study.enqueue_trial({"x": 1.0})
    queued = study.ask()
    plain = RDBStorage(url)
    assert plain.get_trial(made._trial_id).user_attrs == {"worker": "host:123"}
    assert plain.get_trial(queued._trial_id).user_attrs == {}
    beats = models.TrialHeartbeatModel.__table__
    with plain.engine.connect() as connection:
        beating = set(connection.execute(sa.select(beats.c.trial_id).where(
            beats.c.trial_id.in_([made._trial_id, queued._trial_id]))).scalars())
    assert beating == {made._trial_id}
    plain.engine.dispose()


def test_two_workers_ending_one_trial_on_sqlite_do_not_both_succeed(tmp_path: Path) -> None:
    """SQLite locks no row: a worker whose trial another worker failed between its read and its
    write (late heartbeats) is refused, as on a database that locks the row, and writes nothing."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'study.db'}"
    mine, other = open_storage(url, heartbeat=10, retries=0), open_storage(url, heartbeat=10, retries=0)
    study = optuna.create_study(storage=mine, study_name="race")
    trial = study.ask()
    interleaved: list[str] = []

    def other_worker_first(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE trials") and not interleaved:
            interleaved.append(statement)
            assert other.set_trial_state_values(trial._trial_id, TrialState.FAIL)

    sa.event.listen(mine.engine, "before_cursor_execute", other_worker_first)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        mine.set_trial_state_values(trial._trial_id, TrialState.COMPLETE, [0.5])
    assert interleaved
    ended = RDBStorage(url).get_trial(trial._trial_id)
    assert ended.state == TrialState.FAIL and ended.values is None
