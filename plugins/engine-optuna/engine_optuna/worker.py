"""One worker's loop: run trials until the study has enough finished ones, then return.

Several workers (processes, machines) share one study through its storage. A worker stops
when ``n_trials`` trials are finished (complete or pruned); while the last trials run
elsewhere it waits, so that a trial lost with a killed worker is run again here.
"""

from __future__ import annotations

import math
import os
import re
import socket
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import attrs

from engine_optuna.driver import run_trial
from engine_optuna.trial import TrialFailedError

#: How often a worker looks for trials whose worker died (a dead worker is found within this).
POLL_SECONDS = 0.5
#: How often a worker with nothing left to start looks whether the last trials, run elsewhere,
#: have ended: the study ends within this of its last trial.
WAIT_SECONDS = 0.1
#: A study whose first trials (this many, or all of a smaller budget) were all refused the
#: same way stops with that reason: the space, not the sample, is wrong.
REFUSALS_TO_STOP = 3


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@attrs.define
class Budget:
    n_trials: int
    deadline: float | None  # time.time() after which no trial starts


def run_worker(study: Any, objective: Callable[[Any], Any], budget: Budget, *, retries: int,
               heartbeat: bool, report: Callable[[Any], None]) -> None:
    """Run trials of ``study`` until the budget is spent; ``report`` sees every finished trial."""
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    retry = RetryHeartbeatStaleTrialCallback(max_retry=retries) if retries else None

    def after_trial(study: Any, trial: Any, ours: bool) -> None:
        if trial.state == TrialState.FAIL and retry is not None and ours:  # else its failer queued it
            retry(study, trial)
        report(trial)

    refusal_ruled_out = False
    last_stale_check = -math.inf
    while True:
        if time.monotonic() - last_stale_check >= POLL_SECONDS:  # a dead worker is found within a poll
            last_stale_check = time.monotonic()
            if heartbeat:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    optuna.storages.fail_stale_trials(study)
            else:
                _fail_dead_local_trials(study, retry)
        trials = study.get_trials(deepcopy=False)
        counts = {state: 0 for state in TrialState}
        for trial in trials:
            counts[trial.state] += 1
        finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
        if finished >= budget.n_trials or counts[TrialState.FAIL] >= max(budget.n_trials, 3):
            return
        if budget.deadline is not None and time.time() >= budget.deadline:
            return
        if finished + counts[TrialState.RUNNING] >= budget.n_trials and not counts[TrialState.WAITING]:
            if heartbeat or _live_local_trials(trials):
                time.sleep(WAIT_SECONDS)  # the last trials run elsewhere; take over if one dies
                continue
            return
        if not refusal_ruled_out:
            if repeated_refusal(trials, budget.n_trials) is not None:
                return
            refusal_ruled_out = _first_trials_not_all_refused(trials, budget.n_trials)
        after_trial(study, *run_trial(study, objective, catch=(TrialFailedError,)))


def repeated_refusal(trials: list[Any], n_trials: int) -> str | None:
    """The reason the first trials of the study were all refused, if they were all refused
    the same way (numbers aside: a refused value differs from trial to trial), else ``None``."""
    from optuna.trial import TrialState

    count = min(REFUSALS_TO_STOP, n_trials)
    first = sorted(trials, key=lambda t: t.number)[:count]
    if len(first) < count or any(t.state != TrialState.FAIL or not t.user_attrs.get("refused") for t in first):
        return None
    reasons = {re.sub(r"[-+]?\d[\d.]*(e[-+]?\d+)?", "#", t.user_attrs.get("fail_reason", "")) for t in first}
    return str(first[0].user_attrs.get("fail_reason")) if len(reasons) == 1 else None


def _first_trials_not_all_refused(trials: list[Any], n_trials: int) -> bool:
    """Whether one of the study's first trials finished other than refused: then the study can
    no longer stop for repeated refusals, and the worker stops asking."""
    from optuna.trial import TrialState

    first = sorted(trials, key=lambda t: t.number)[:min(REFUSALS_TO_STOP, n_trials)]
    return any(t.state.is_finished() and not (t.state == TrialState.FAIL and t.user_attrs.get("refused"))
               for t in first)


def _live_local_trials(trials: list[Any]) -> bool:
    from optuna.trial import TrialState

    pids = [_local_pid(t) for t in trials if t.state == TrialState.RUNNING]
    return any(pid is not None and process_alive(pid) for pid in pids)


def _fail_dead_local_trials(study: Any, retry: Any) -> None:
    """Without heartbeats (journal storage): fail RUNNING trials of dead workers on this host."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = _local_pid(trial)
        if pid is None or pid == os.getpid() or process_alive(pid):
            continue
        try:
            changed = study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except Exception:  # another worker failed it first
            continue
        if changed:
            print(f"engine: trial {trial.number}: its worker (pid {pid}) is gone; marked FAIL", file=sys.stderr)
            if retry is not None:
                retry(study, study._storage.get_trial(trial._trial_id))


def _local_pid(trial: Any) -> int | None:
    host, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
    return int(pid) if host == socket.gethostname() and pid.isdigit() else None
