"""Several writes to one trial in one storage transaction.

Each ``set_trial_user_attr`` or ``set_trial_intermediate_value`` of an RDB storage (SQLite,
PostgreSQL) is a transaction of its own through SQLAlchemy's ORM: it reads the trial back,
checks its state, then writes, about a millisecond each, and half a millisecond for each of a
trial's 30 intermediate values. A trial writes a few of them together (who runs it and its
first heartbeat, at its start, where the engine's RDB storage did not write them as it made
the trial; where it ran, its steps and its intermediate values, at its end), so they go in one
transaction of plain multi-row inserts into Optuna's tables. A key or step the trial holds
already (a retried trial starts with its original's attributes) makes that transaction fail
whole, and a trial no longer running (failed by another worker) writes nothing there; the
writes then go through the methods Optuna's own calls use, which replace a held key and refuse
a finished trial. Any other storage (a journal file), or an Optuna whose tables differ, gets
Optuna's calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def write_trial(storage: Any, trial_id: int, *, user_attrs: Mapping[str, Any] | None = None,
                intermediate: Mapping[int, float] | None = None, heartbeat: bool = False) -> None:
    """Set ``user_attrs`` and the ``intermediate`` values (step → value) of trial ``trial_id``;
    with ``heartbeat``, record its first heartbeat too (a storage with heartbeats)."""
    user_attrs, intermediate = dict(user_attrs or {}), dict(intermediate or {})
    if not user_attrs and not intermediate and not heartbeat:
        return
    backend = getattr(storage, "_backend", storage)  # an RDB storage is wrapped in a cache
    if _insert(backend, trial_id, user_attrs, intermediate, heartbeat):
        held = getattr(backend, "held", None)  # the engine's storage holds the trials it runs
        if held is not None:
            held.add(trial_id, user_attrs=user_attrs, intermediate=intermediate)
        return
    for key, value in user_attrs.items():
        storage.set_trial_user_attr(trial_id, key, value)
    for step, value in intermediate.items():
        storage.set_trial_intermediate_value(trial_id, step, value)
    if heartbeat:
        storage.record_heartbeat(trial_id)


def _insert(backend: Any, trial_id: int, user_attrs: dict[str, Any], intermediate: dict[int, float],
            heartbeat: bool) -> bool:
    """Insert the rows in one transaction; ``False`` (nothing written) where that cannot be done."""
    engine = getattr(backend, "engine", None)
    try:
        from optuna.storages._rdb import models
        from optuna.trial import TrialState
        from sqlalchemy import select
        from sqlalchemy.exc import IntegrityError
    except ImportError:
        return False
    trials_table: Any = getattr(models, "TrialModel", None)
    values_table: Any = getattr(models, "TrialIntermediateValueModel", None)
    if (engine is None or not hasattr(values_table, "intermediate_value_to_stored_repr") or trials_table is None
            or not hasattr(models, "TrialUserAttributeModel") or not hasattr(models, "TrialHeartbeatModel")):
        return False
    state = select(trials_table.state).where(trials_table.trial_id == trial_id)
    try:
        with engine.begin() as connection:
            if connection.execute(state).scalar_one_or_none() != TrialState.RUNNING:
                return False  # Optuna's calls say why
            insert_rows(connection, trial_id, user_attrs=user_attrs, intermediate=intermediate, heartbeat=heartbeat)
    except IntegrityError:  # a key, step or heartbeat held already: Optuna's calls replace it
        return False
    return True


def insert_rows(connection: Any, trial_id: int, *, user_attrs: Mapping[str, Any] | None = None,
                intermediate: Mapping[int, float] | None = None, heartbeat: bool = False) -> None:
    """Insert a trial's user attributes, intermediate values and first heartbeat into Optuna's
    tables on ``connection`` (a SQLAlchemy connection in a transaction): multi-row inserts, no
    check of the trial's state. A key or step it holds already raises ``IntegrityError``."""
    from optuna.storages._rdb import models
    from sqlalchemy import func, insert

    attrs_table: Any = models.TrialUserAttributeModel
    values_table: Any = models.TrialIntermediateValueModel
    if user_attrs:
        connection.execute(insert(attrs_table), [{"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                                                 for key, value in user_attrs.items()])
    if intermediate:
        rows = []
        for step, value in intermediate.items():
            stored, kind = values_table.intermediate_value_to_stored_repr(value)
            rows.append({"trial_id": trial_id, "step": step, "intermediate_value": stored,
                         "intermediate_value_type": kind})
        connection.execute(insert(values_table), rows)
    if heartbeat:  # the server's clock, as the heartbeats after it (engine_optuna.heartbeats)
        connection.execute(insert(models.TrialHeartbeatModel).values(trial_id=trial_id,
                                                                     heartbeat=func.current_timestamp()))
