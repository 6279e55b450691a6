"""The RDB storage ``engine tune`` opens: Optuna's own, with the statements a worker makes for
every trial written plainly, in Optuna's own tables, so that Optuna, and workers without this
class, read what it writes as their own.

Optuna's RDB storage goes through SQLAlchemy's ORM: each call loads the trial's row, then
each related row it touches by a lazy load, and commits a session; about a millisecond and a
half a call on two cores, and a worker makes a dozen calls per trial. Here:

- heartbeats: one statement each (:mod:`engine_optuna.heartbeats`);
- reading trials back: six ``SELECT`` statements for any number of trials
  (:mod:`engine_optuna.trial_reads`); a trial this storage made and runs, from what it wrote
  after one statement reading its state (:mod:`engine_optuna.held_trials`);
- a sampled parameter: the trial's state, the study's earlier distribution of that parameter
  when the cache does not hold it, one ``INSERT``;
- a new trial: the study's row locked (where the database locks rows), the trial inserted,
  numbered by the trials before it as Optuna numbers it, and claimed by the worker (its
  :attr:`EngineRDBStorage.claim` attributes and first heartbeat), in one transaction;
- a trial's end: its state read (locked likewise) and changed only if it is still that state
  (on SQLite, which locks no row, two workers ending one trial do not both succeed), its end
  time and values written, in one transaction.

Each keeps Optuna's checks and errors: a finished trial refuses updates, a parameter's
distribution must be compatible with the study's, a missing trial or study is a ``KeyError``.
A trial made from a template (a retried one), taking a waiting trial (the hand-over to one
worker) and a transaction the database gives up on (locked) stay Optuna's, with its retries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from optuna import distributions
from optuna.exceptions import StorageInternalError
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from engine_optuna.heartbeats import HeartbeatStorage
from engine_optuna.held_trials import HeldTrials
from engine_optuna.trial_reads import UTC_TIMES, local_time, read_trials, study_condition, trial_condition
from engine_optuna.trial_writes import insert_rows

_STUDIES: Any = models.StudyModel.__table__
_TRIALS: Any = models.TrialModel.__table__
_PARAMS: Any = models.TrialParamModel.__table__
_VALUES: Any = models.TrialValueModel.__table__


class EngineRDBStorage(HeartbeatStorage):
    """An :class:`optuna.storages.RDBStorage` whose per-trial statements are plain ones."""

    #: User attributes a trial this storage makes gets as it is made (who runs it), with its
    #: first heartbeat; ``None``: none.
    claim: dict[str, Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: The trials this storage made, as it wrote them (:mod:`engine_optuna.held_trials`).
        self.held = HeldTrials()
        super().__init__(*args, **kwargs)

    def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
        if template_trial is not None:
            return super()._create_new_trial(study_id, template_trial)
        started = _stored_now()
        try:
            with self._transaction() as connection:
                _require_study(connection, study_id, lock=True)  # numbers are given one trial at a time
                inserted = connection.execute(sa.insert(_TRIALS).values(
                    study_id=study_id, number=None, state=TrialState.RUNNING, datetime_start=started))
                primary_key: Any = inserted.inserted_primary_key
                trial_id = int(primary_key[0])
                number = connection.execute(sa.select(sa.func.count(_TRIALS.c.trial_id)).where(
                    _TRIALS.c.study_id == study_id, _TRIALS.c.trial_id < trial_id)).scalar_one()
                connection.execute(sa.update(_TRIALS).where(_TRIALS.c.trial_id == trial_id).values(number=number))
                claim = dict(self.claim or {})
                insert_rows(connection, trial_id, user_attrs=claim,
                            heartbeat=bool(claim) and self.heartbeat_interval is not None)
        except StorageInternalError:  # locked: Optuna's own call retries
            return super()._create_new_trial(study_id, template_trial)
        made = FrozenTrial(number=number, state=TrialState.RUNNING, value=None, values=None,
                           datetime_start=local_time(started), datetime_complete=None, params={},
                           distributions={}, user_attrs=claim, system_attrs={}, intermediate_values={},
                           trial_id=trial_id)
        self.held.hold(made)
        return made

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self.engine.connect() as connection:
            held = self.held.state(trial_id)
            if held is not None:
                stored = connection.execute(sa.select(_TRIALS.c.state).where(_TRIALS.c.trial_id == trial_id)).scalar()
                if stored == held:
                    return self.held.get(trial_id)
                self.held.drop(trial_id)  # ended by another worker meanwhile
            found = read_trials(connection, trial_condition(trial_id))
        if not found:
            raise KeyError(models.NOT_FOUND_MSG)
        return found[0]

    def _get_trials(self, study_id: int, states: Any, included_trial_ids: set[int],
                    trial_id_greater_than: int) -> list[FrozenTrial]:
        try:
            with self.engine.connect() as connection:
                _require_study(connection, study_id)
                return read_trials(connection, study_condition(study_id, states, included_trial_ids,
                                                               trial_id_greater_than))
        except OperationalError:  # more trial ids than the database takes in one statement
            return super()._get_trials(study_id, states, included_trial_ids, trial_id_greater_than)

    def _set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                         distribution: distributions.BaseDistribution,
                         previous_distribution: distributions.BaseDistribution | None) -> None:
        inserted = False
        with self._transaction(ignore_integrity_error=True) as connection:
            row = connection.execute(sa.select(_TRIALS.c.study_id, _TRIALS.c.state)
                                     .where(_TRIALS.c.trial_id == trial_id)).first()
            if row is None:
                raise KeyError(models.NOT_FOUND_MSG)
            self.check_trial_is_updatable(trial_id, row.state)
            if previous_distribution is None:  # the study's, if another trial sampled it
                earlier = connection.execute(
                    sa.select(_PARAMS.c.distribution_json)
                    .join(_TRIALS, _TRIALS.c.trial_id == _PARAMS.c.trial_id)
                    .where(_TRIALS.c.study_id == row.study_id, _PARAMS.c.param_name == param_name).limit(1)
                ).scalar_one_or_none()
                if earlier is not None:
                    previous_distribution = distributions.json_to_distribution(earlier)
            if previous_distribution is not None:
                distributions.check_distribution_compatibility(previous_distribution, distribution)
            connection.execute(sa.insert(_PARAMS).values(
                trial_id=trial_id, param_name=param_name, param_value=param_value_internal,
                distribution_json=distributions.distribution_to_json(distribution)))
            inserted = True
        if inserted:
            self.held.set_param(trial_id, param_name, distribution.to_external_repr(param_value_internal), distribution)
        else:  # a name it held already: the stored value stays
            self.held.drop(trial_id)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        with self._holding(trial_id, user_attrs={key: value}):
            super().set_trial_user_attr(trial_id, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        with self._holding(trial_id, system_attrs={key: value}):
            super().set_trial_system_attr(trial_id, key, value)

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        with self._holding(trial_id, intermediate={step: intermediate_value}):
            super().set_trial_intermediate_value(trial_id, step, intermediate_value)

    @contextmanager
    def _holding(self, trial_id: int, **written: Any) -> Iterator[None]:
        """Optuna's own write in the block, then the same change to the held trial (let go if
        the write fails)."""
        try:
            yield
        except BaseException:
            self.held.drop(trial_id)
            raise
        self.held.add(trial_id, **written)

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Sequence[float] | None = None) -> bool:
        if not state.is_finished():  # running a waiting trial: Optuna's hand-over to one worker
            self.held.drop(trial_id)
            return super().set_trial_state_values(trial_id, state, values)
        completed = _stored_now()
        try:
            ended = self._end_trial(trial_id, state, values, completed)
        except BaseException:
            self.held.drop(trial_id)
            raise
        if ended:
            self.held.end(trial_id, state, values, local_time(completed))
        else:
            self.held.drop(trial_id)
        return ended

    def _end_trial(self, trial_id: int, state: TrialState, values: Sequence[float] | None,
                   completed: datetime.datetime) -> bool:
        """End the trial ``state`` with ``values`` at ``completed`` if it is still running."""
        try:
            with self._transaction() as connection:
                current = connection.execute(sa.select(_TRIALS.c.state).where(_TRIALS.c.trial_id == trial_id)
                                             .with_for_update()).scalar_one_or_none()
                if current is None:
                    raise KeyError(models.NOT_FOUND_MSG)
                self.check_trial_is_updatable(trial_id, current)
                ended = connection.execute(sa.update(_TRIALS).where(_TRIALS.c.trial_id == trial_id,
                                                                    _TRIALS.c.state == current)
                                           .values(state=state, datetime_complete=completed))
                if not ended.rowcount:  # another worker changed it since (SQLite locks no row)
                    now = connection.execute(sa.select(_TRIALS.c.state).where(_TRIALS.c.trial_id == trial_id)).scalar()
                    self.check_trial_is_updatable(trial_id, now)  # ended: raises, undoing this transaction
                    return False
                written = set(connection.execute(sa.select(_VALUES.c.objective)
                                                 .where(_VALUES.c.trial_id == trial_id)).scalars())
                for objective, value in enumerate(values or ()):
                    stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                    if objective in written:
                        connection.execute(sa.update(_VALUES).where(_VALUES.c.trial_id == trial_id,
                                                                    _VALUES.c.objective == objective)
                                           .values(value=stored, value_type=kind))
                    else:
                        connection.execute(sa.insert(_VALUES).values(trial_id=trial_id, objective=objective,
                                                                     value=stored, value_type=kind))
        except IntegrityError:
            return False
        return True

    @contextmanager
    def _transaction(self, *, ignore_integrity_error: bool = False) -> Iterator[sa.Connection]:
        """One transaction, with Optuna's handling of database errors: a duplicate key is
        ignored or raised as is, anything else from the database is a StorageInternalError."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except IntegrityError:
            if not ignore_integrity_error:
                raise
        except SQLAlchemyError as exc:
            raise StorageInternalError("An exception is raised during the commit.") from exc


def _require_study(connection: sa.Connection, study_id: int, *, lock: bool = False) -> None:
    """Raise Optuna's ``KeyError`` for a study that does not exist; ``lock``: hold its row
    until the transaction ends (where the database locks rows)."""
    query = sa.select(_STUDIES.c.study_id).where(_STUDIES.c.study_id == study_id)
    if connection.execute(query.with_for_update() if lock else query).first() is None:
        raise KeyError(models.NOT_FOUND_MSG)


def _stored_now() -> datetime.datetime:
    """Now, as Optuna stores a time: naive UTC (naive local time before it stored UTC)."""
    if UTC_TIMES:
        return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return datetime.datetime.now()
