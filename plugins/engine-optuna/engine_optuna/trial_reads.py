"""Reading trials back in plain statements, from Optuna's own tables.

Optuna's RDB storage reads a trial through its ORM: the trial's row, then each of its five
kinds of child rows (parameters, values, user and system attributes, intermediate values) by
a lazy load, about 1.5 ms on two cores. A worker reads its trial three times (``ask``, and
twice in ``tell``) and the trials that ended since its last look once more per trial. These
functions read the same rows in six plain ``SELECT`` statements for any number of trials and
build the same :class:`optuna.trial.FrozenTrial` objects (tests/optuna/test_rdb_storage.py
compares them with Optuna's own).
"""

from __future__ import annotations

import datetime
import inspect
import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from optuna import distributions
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial

_TRIALS: Any = models.TrialModel.__table__
#: Whether Optuna stores times as naive UTC (its model converts them to local time on reading).
UTC_TIMES = isinstance(inspect.getattr_static(models.TrialModel, "datetime_start", None), property)


def read_trials(connection: sa.Connection, condition: Any) -> list[FrozenTrial]:
    """The trials whose row meets ``condition`` (on Optuna's ``trials`` table), by trial id."""
    columns = (_TRIALS.c.trial_id, _TRIALS.c.number, _TRIALS.c.state, _TRIALS.c.datetime_start,
               _TRIALS.c.datetime_complete)
    rows: list[Any] = list(connection.execute(sa.select(*columns).where(condition).order_by(_TRIALS.c.trial_id)))
    if not rows:
        return []
    chosen = sa.select(_TRIALS.c.trial_id).where(condition).scalar_subquery()

    def children(model: Any, *columns: str, order: str | None = None) -> dict[int, list[Any]]:
        table = model.__table__
        query = sa.select(table.c.trial_id, *(table.c[c] for c in columns)).where(table.c.trial_id.in_(chosen))
        found: dict[int, list[Any]] = defaultdict(list)
        for row in connection.execute(query.order_by(table.c[order]) if order else query):
            found[row[0]].append(row[1:])
        return found

    params = children(models.TrialParamModel, "param_name", "param_value", "distribution_json", order="param_id")
    values = children(models.TrialValueModel, "objective", "value", "value_type")
    user_attrs = children(models.TrialUserAttributeModel, "key", "value_json")
    system_attrs = children(models.TrialSystemAttributeModel, "key", "value_json")
    intermediate = children(models.TrialIntermediateValueModel, "step", "intermediate_value",
                            "intermediate_value_type")
    trials = []
    for trial_id, number, state, started, completed in rows:
        shapes = {name: distributions.json_to_distribution(shape) for name, _, shape in params[trial_id]}
        objectives = values[trial_id]
        trial_values: list[float] | None = None
        if objectives:
            trial_values = [0.0] * len(objectives)
            for objective, value, kind in objectives:
                trial_values[objective] = models.TrialValueModel.stored_repr_to_value(value, kind)
        trials.append(FrozenTrial(
            number=number, state=state, value=None, values=trial_values,
            datetime_start=local_time(started), datetime_complete=local_time(completed),
            params={name: shapes[name].to_external_repr(value) for name, value, _ in params[trial_id]},
            distributions=shapes,
            user_attrs={key: json.loads(value) for key, value in user_attrs[trial_id]},
            system_attrs={key: json.loads(value) for key, value in system_attrs[trial_id]},
            intermediate_values={
                step: models.TrialIntermediateValueModel.stored_repr_to_intermediate_value(value, kind)
                for step, value, kind in intermediate[trial_id]},
            trial_id=trial_id,
        ))
    return trials


def trial_condition(trial_id: int) -> Any:
    return _TRIALS.c.trial_id == trial_id


def study_condition(study_id: int, states: Any, included_trial_ids: set[int], trial_id_greater_than: int) -> Any:
    """The trials Optuna's ``RDBStorage._get_trials`` selects: a study's, in ``states``, with an
    id above ``trial_id_greater_than`` or among ``included_trial_ids`` (those not above it)."""
    condition = _TRIALS.c.study_id == study_id
    if states is not None:
        condition = sa.and_(condition, _TRIALS.c.state.in_(list(states)))
    included = [i for i in included_trial_ids if i <= trial_id_greater_than]
    if included and trial_id_greater_than > -1:
        condition = sa.and_(condition, sa.or_(_TRIALS.c.trial_id.in_(included),
                                              _TRIALS.c.trial_id > trial_id_greater_than))
    elif trial_id_greater_than > -1:
        condition = sa.and_(condition, _TRIALS.c.trial_id > trial_id_greater_than)
    return condition


def local_time(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A stored time as Optuna's model gives it: naive UTC read as naive local time."""
    if moment is None or not UTC_TIMES:
        return moment
    return moment.replace(tzinfo=datetime.UTC).astimezone().replace(tzinfo=None)
