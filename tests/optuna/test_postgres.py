"""Two workers on one study in a real PostgreSQL server; one is killed in the middle of a trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState
from optuna_helpers import read_trials_csv, tune_spec
from sqlalchemy.exc import IntegrityError, ProgrammingError

TRIALS = 4


def _engine(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _running_trial_of(study: optuna.Study, pid: int, tmp_path: Path) -> optuna.trial.FrozenTrial | None:
    """A RUNNING trial of worker ``pid`` that has already logged metrics (so it is mid-trial)."""
    for trial in study.get_trials(states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker", "")
        metrics = tmp_path / "runs" / "study" / "trials" / str(trial.number) / "metrics.jsonl"
        if worker.endswith(f":{pid}") and metrics.exists() and metrics.read_text():
            return trial
    return None


def test_killed_worker_trial_fails_by_heartbeat_and_the_study_completes(tmp_path: Path, postgres_url: str) -> None:
    spec = tune_spec(trials=TRIALS, max_steps=40, pruner="none", step_seconds=0.05,
                     extra_tune="heartbeat = 1\nretries = 1")
    (tmp_path / "spec.toml").write_text(spec)
    args = ("tune", "spec.toml", "--storage", postgres_url, "--study", "shared")
    victim = _engine(tmp_path, *args)
    survivor = _engine(tmp_path, *args)
    try:
        killed = None
        deadline = time.monotonic() + 90
        while killed is None and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.2)
            try:
                study = optuna.load_study(study_name="shared", storage=postgres_url)
            except KeyError:  # the study is not created yet
                continue
            except (IntegrityError, ProgrammingError):  # a worker is creating the schema right now
                continue
            killed = _running_trial_of(study, victim.pid, tmp_path)
        if killed is None and victim.poll() is not None:
            raise AssertionError(f"the victim exited {victim.returncode}: {victim.communicate()[1][-2000:]}")
        assert killed is not None, "the victim never ran a trial"
        os.kill(victim.pid, signal.SIGKILL)  # no chance to clean up: only the heartbeat can tell
        victim.wait(timeout=30)
        out, err = survivor.communicate(timeout=150)
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert survivor.returncode == 0, err

    trials = optuna.load_study(study_name="shared", storage=postgres_url).get_trials()
    by_number = {t.number: t for t in trials}
    assert by_number[killed.number].state == TrialState.FAIL  # not left RUNNING
    assert sum(t.state == TrialState.COMPLETE for t in trials) == TRIALS
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params  # retries = 1: its values ran again
    assert retried[0].state == TrialState.COMPLETE

    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert [r["state"] for r in rows].count("COMPLETE") == TRIALS
    assert (tmp_path / "runs" / "study" / "best.toml").exists()
    assert "best trial" in out
