"""One trial's life in the study: asked for, claimed, kept alive while it runs, told.

This is what ``study.optimize(objective, n_trials=1)`` does for one trial, through Optuna's
public ``ask`` and ``tell``, less what a worker pays per trial there and need not:

- the trial is claimed (who runs it) and its first heartbeat written as the engine's RDB
  storage makes it (:class:`engine_optuna.rdb_storage.EngineRDBStorage`), or else in one
  transaction (:func:`engine_optuna.trial_writes.write_trial`), before the heartbeat thread
  starts, where ``optimize`` starts the thread at once and the claim then waits for its write;
- stale trials are not looked for at every trial's start: the worker's loop looks every
  :data:`engine_optuna.worker.POLL_SECONDS`;
- the ended trial is read back once, not twice.

A trial that another worker failed meanwhile (its heartbeats were late) stays as that worker
left it, and is not this worker's to queue again; ``optimize`` raises there.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from engine_optuna.trial import worker_id
from engine_optuna.trial_writes import write_trial


def run_trial(study: Any, objective: Callable[[Any], Any], *,
              catch: tuple[type[Exception], ...]) -> tuple[Any, bool]:
    """Ask for a trial, run ``objective`` on it, tell the study how it ended; returns the
    ended trial (an :class:`optuna.trial.FrozenTrial`) and whether this worker ended it (not
    another, meanwhile). A pruned trial (``TrialPruned``) ends PRUNED; an exception in
    ``catch`` ends it FAIL; any other exception, or an interrupt, ends it FAIL and is raised
    again."""
    import optuna
    from optuna.trial import TrialState

    storage = study._storage
    claim = {"worker": worker_id()}
    backend = getattr(storage, "_backend", storage)  # an RDB storage is wrapped in a cache
    if hasattr(backend, "claim"):  # the engine's RDB storage claims the trial as it makes it
        backend.claim = claim
    with warnings.catch_warnings():  # ask warns that heartbeats are meant for optimize()
        warnings.simplefilter("ignore")
        trial = study.ask()
    interval = heartbeat_interval(storage)
    if trial.user_attrs.get("worker") != claim["worker"]:  # a queued or retried trial, or another storage
        write_trial(storage, trial._trial_id, user_attrs=claim, heartbeat=interval is not None)
    values: Any = None
    state = None
    raised: BaseException | None = None
    with beating(storage, trial._trial_id, interval):
        try:
            values = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except catch:
            state = TrialState.FAIL
        except (Exception, KeyboardInterrupt) as exc:
            state, raised = TrialState.FAIL, exc
    try:
        with warnings.catch_warnings():  # a value Optuna refuses (NaN) ends the trial FAIL, as in optimize()
            warnings.simplefilter("ignore")
            ended, ours = study.tell(trial, values, state=state), True
    except (ValueError, optuna.exceptions.UpdateFinishedTrialError):  # "cannot tell a FAIL trial"
        ended, ours = study._storage.get_trial(trial._trial_id), False
        if not ended.state.is_finished():
            raise
    if raised is not None:
        raise raised
    return ended, ours


def heartbeat_interval(storage: Any) -> float | None:
    """Seconds between a running trial's heartbeats; ``None`` for a storage without them."""
    interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
    return None if interval is None else float(interval)


@contextlib.contextmanager
def beating(storage: Any, trial_id: int, interval: float | None) -> Iterator[None]:
    """Record the trial's heartbeat every ``interval`` seconds while the block runs (the first
    one is written with the trial's claim)."""
    if interval is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            storage.record_heartbeat(trial_id)

    thread = threading.Thread(target=beat, name=f"engine-optuna heartbeat {trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
