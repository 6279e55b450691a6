"""``engine tune --workers 2``: a worker killed mid-trial on this machine.

The command is worker 0 itself and starts the other worker. That worker is killed with SIGKILL
in the middle of a trial: its trial must end FAIL, run again (``retries``), and the study still
completes with exit status 0. On a journal file (no heartbeats) the command finds the dead
process by its id (it reaps it, so the id stops looking alive); on SQLite, by its trial's
heartbeats stopping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState
from optuna_helpers import read_trials_csv, tune_spec

TRIALS = 6


def _study(storage: str) -> optuna.Study:
    opened = storage if "://" in storage else JournalStorage(JournalFileBackend(storage))
    return optuna.load_study(study_name="study", storage=opened)


def _running_trial_of_another_process(
    storage: str, parent: int, root: Path
) -> tuple[int, optuna.trial.FrozenTrial] | None:
    """A RUNNING trial, already logging metrics, of a worker other than the command's process."""
    if not (root / "runs" / "study" / "trials").exists():
        return None
    try:
        study = _study(storage)
    except KeyError:  # not created yet
        return None
    for trial in study.get_trials(states=(TrialState.RUNNING,)):
        pid = int(str(trial.user_attrs.get("worker", ":0")).rpartition(":")[2] or 0)
        metrics = root / "runs" / "study" / "trials" / str(trial.number) / "metrics.jsonl"
        if pid not in (0, parent) and metrics.exists() and metrics.read_text():
            return pid, trial
    return None


@pytest.mark.parametrize("kind", ["journal", "sqlite"])
def test_a_killed_worker_trial_fails_runs_again_and_the_study_completes(tmp_path: Path, kind: str) -> None:
    extra = "retries = 1\nheartbeat = 1" if kind == "sqlite" else "retries = 1"
    spec = tune_spec(trials=TRIALS, max_steps=40, pruner="none", step_seconds=0.05, extra_tune=extra)
    (tmp_path / "spec.toml").write_text(spec)
    storage = str(tmp_path / "study.journal") if kind == "journal" else f"sqlite:///{tmp_path / 'study.db'}"
    command = [sys.executable, "-m", "engine", "tune", "spec.toml", "--workers", "2", "--storage", storage]
    tune = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        found = None
        deadline = time.monotonic() + 120
        while found is None and time.monotonic() < deadline and tune.poll() is None:
            time.sleep(0.2)
            found = _running_trial_of_another_process(storage, tune.pid, tmp_path)
        assert found is not None, "the started worker never ran a trial"
        pid, killed = found
        os.kill(pid, signal.SIGKILL)
        out, err = tune.communicate(timeout=180)
    finally:
        if tune.poll() is None:
            tune.kill()
            tune.wait()
    assert tune.returncode == 0, err
    if kind == "journal":
        assert f"trial {killed.number}: its worker (pid {pid}) is gone; marked FAIL" in err

    trials = _study(storage).trials
    by_number = {t.number: t for t in trials}
    assert by_number[killed.number].state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params and retried[0].state == TrialState.COMPLETE
    assert sum(t.state == TrialState.COMPLETE for t in trials) == TRIALS
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert [r["state"] for r in rows].count("COMPLETE") == TRIALS
    assert "best trial" in out
