"""Heartbeats of running trials in plain statements, in Optuna's own tables.

Optuna's RDB storage records a trial's heartbeat through its ORM (read the row, read it again
locked, write it) from a thread that starts with the trial, and finds stale trials by loading
every running trial with its heartbeats, at every trial's start: about 4 ms of a worker's time
per trial on two cores, most of it Python competing with the trial's own start. This storage
writes the same rows with one ``UPDATE`` (an ``INSERT`` for a new trial) and reads them with one
``SELECT``, so Optuna, and workers without this storage, read them as their own.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.trial import TrialState
from sqlalchemy.exc import IntegrityError


class HeartbeatStorage(RDBStorage):
    """An :class:`optuna.storages.RDBStorage` whose heartbeats cost a statement each."""

    def record_heartbeat(self, trial_id: int) -> None:
        table: Any = models.TrialHeartbeatModel.__table__
        now = sa.func.current_timestamp()  # the server's clock, as Optuna's reads it
        update = sa.update(table).where(table.c.trial_id == trial_id).values(heartbeat=now)
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount:
                return
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(table).values(trial_id=trial_id, heartbeat=now))
        except IntegrityError:  # written in between (a server that counts only changed rows)
            with self.engine.begin() as connection:
                connection.execute(update)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        interval = self.heartbeat_interval
        assert interval is not None
        grace = datetime.timedelta(seconds=self.grace_period if self.grace_period is not None else 2 * interval)
        trials: Any = models.TrialModel.__table__
        beats: Any = models.TrialHeartbeatModel.__table__
        running = (sa.select(trials.c.trial_id, beats.c.heartbeat)
                   .join(beats, beats.c.trial_id == trials.c.trial_id)
                   .where(trials.c.study_id == study_id, trials.c.state == TrialState.RUNNING))
        with self.engine.connect() as connection:
            now = connection.execute(sa.select(sa.func.now())).scalar_one()
            rows: list[Any] = list(connection.execute(running).all())
        now = _naive(now)
        return [int(trial_id) for trial_id, beat in rows if now - _naive(beat) > grace]


def _naive(moment: datetime.datetime) -> datetime.datetime:
    """Server times compared as Optuna compares them (PostgreSQL's carry a time zone)."""
    return moment.replace(tzinfo=None)
