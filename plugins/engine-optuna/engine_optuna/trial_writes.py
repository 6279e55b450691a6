"""Several writes to one trial in one storage transaction.

Each ``set_trial_user_attr`` or ``set_trial_intermediate_value`` of an RDB storage (SQLite,
PostgreSQL) is a transaction of its own: a round trip and a commit, and with several workers on
one SQLite file a turn at its write lock. A trial writes a few of them together (who runs it
and where, at its start; its intermediate values and step count, at its end), so they go in
one transaction, through the methods Optuna's own calls wrap in a session, and the values in
one multi-row insert (Optuna's per-value method reads the trial and the step back first: half
a millisecond a value, 14 ms for a trial's 30 evaluations). Any other storage (a journal
file), or an Optuna without those methods, gets one call per write as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def write_trial(storage: Any, trial_id: int, *, user_attrs: Mapping[str, Any] | None = None,
                intermediate: Mapping[int, float] | None = None) -> None:
    """Set ``user_attrs`` and the ``intermediate`` values (step → value) of trial ``trial_id``."""
    user_attrs, intermediate = dict(user_attrs or {}), dict(intermediate or {})
    if not user_attrs and not intermediate:
        return
    backend = getattr(storage, "_backend", storage)  # an RDB storage is wrapped in a cache
    session = _transaction(backend)
    if session is not None:
        from optuna.storages._rdb import models

        with session as open_session:
            for key, value in user_attrs.items():
                backend._set_trial_attr_without_commit(open_session, models.TrialUserAttributeModel, trial_id,
                                                       key, value)
            _insert_intermediate(backend, open_session, trial_id, intermediate)
        return
    for key, value in user_attrs.items():
        storage.set_trial_user_attr(trial_id, key, value)
    for step, value in intermediate.items():
        storage.set_trial_intermediate_value(trial_id, step, value)


def _insert_intermediate(backend: Any, session: Any, trial_id: int, values: dict[int, float]) -> None:
    """Add the trial's ``values`` in one multi-row insert; a step it holds already (none, for the
    values a trial keeps in memory) goes through Optuna's method, which replaces it."""
    from optuna.storages._rdb import models
    from sqlalchemy import insert, select

    table = models.TrialIntermediateValueModel
    trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
    backend.check_trial_is_updatable(trial_id, trial.state)
    held = set(session.scalars(select(table.step).where(table.trial_id == trial_id)))
    rows = []
    for step, value in values.items():
        if step in held:
            backend._set_trial_intermediate_value_without_commit(session, trial_id, step, value)
            continue
        stored, kind = table.intermediate_value_to_stored_repr(value)
        rows.append({"trial_id": trial_id, "step": step, "intermediate_value": stored,
                     "intermediate_value_type": kind})
    if rows:
        session.execute(insert(table), rows)


def _transaction(backend: Any) -> Any:
    """A context manager committing one transaction of ``backend``, or ``None`` where it has none."""
    needed = ("scoped_session", "check_trial_is_updatable", "_set_trial_attr_without_commit",
              "_set_trial_intermediate_value_without_commit")
    if not all(hasattr(backend, name) for name in needed):
        return None
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
    except ImportError:
        return None
    table = getattr(models, "TrialIntermediateValueModel", None)
    if not all(hasattr(table, name) for name in ("intermediate_value_to_stored_repr", "trial_id", "step")):
        return None
    return _create_scoped_session(backend.scoped_session, True)
