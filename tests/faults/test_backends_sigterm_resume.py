"""SIGTERM, the way SLURM and Kubernetes preempt a job, at seeded random steps with early
stopping on, then ``--resume``: for every backend with exact resume (testing, torch, xgboost,
lightgbm) the run ends as if it had never stopped: the same model files (final and best), the
same summary (status, reason, steps, best, metrics) and the same metrics log.

A job is preempted ten times in a row, one process per attempt (the run plugin ``faults_kill``
sends the signal at the chosen step), and restarted with the same command each time, as a
requeued job is. After each attempt the metrics log must be the uninterrupted run's up to that
step: a preemption adds no evaluation and no record, only a checkpoint.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import pytest
from faults_helpers import KILLED_RUN, Checkpoints, metrics_log, outcome, start
from test_backends_kill_resume import LIGHTGBM, TORCH, XGBOOST

from engine._core.errors import EXIT_SIGTERM

SPEC = KILLED_RUN + """
[loop]
max_steps = 200
eval_every = "{eval_every} steps"
checkpoint_every = "4 steps"
log_every = "3 steps"

[backend]
{backend}

[early_stop]
monitor = "{monitor}"
patience = 2
min_delta = {min_delta}

[checkpoint]
keep_last = 2
"""

TESTING = """use = "testing"
noise = 1.0
"""

#: name -> (plugin module that must be installed, [backend] section, [loop] and [early_stop]
#: values, the step before which the uninterrupted run never stops); slowest to start first
BACKENDS: dict[str, tuple[str, str, dict[str, object], int]] = {
    "torch": ("engine_torch", TORCH, {"eval_every": 3, "monitor": "val/loss", "min_delta": 0.02}, 42),
    "xgboost": ("engine_xgboost", XGBOOST.format(extra=""),
                {"eval_every": 2, "monitor": "val/logloss", "min_delta": 0.0}, 22),
    "lightgbm": ("engine_lightgbm", LIGHTGBM, {"eval_every": 2, "monitor": "val/binary_logloss", "min_delta": 0.0}, 26),
    "testing": ("engine", TESTING, {"eval_every": 3, "monitor": "val/loss", "min_delta": 0.0}, 39),
}
PREEMPTIONS = 10


@attrs.frozen
class Attempt:
    """One attempt of a job: the step its signal came at (0: none), and what it left behind."""

    step: int
    code: int
    err: str
    summary: dict[str, Any]
    log: list[dict[str, Any]]
    checkpoints: list[str]


def run_once(cwd: Path, *args: str, preempt_at: int = 0) -> Attempt:
    """``engine run spec.toml`` in ``cwd``, preempted by SIGTERM at step ``preempt_at`` (0: never)."""
    env = {"FAULTS_KILL_AT": str(preempt_at), "FAULTS_SIGNAL": "SIGTERM"} if preempt_at else None
    process = start(cwd, "run", "spec.toml", "--quiet", *args, env=env)
    _, err = process.communicate(timeout=300)
    run_dir = cwd / "runs/r"
    summary = run_dir / "summary.json"
    return Attempt(preempt_at, process.returncode, err, json.loads(summary.read_text()) if summary.exists() else {},
                   metrics_log(run_dir), Checkpoints(run_dir).committed())


def preempted_job(cwd: Path, steps: list[int]) -> list[Attempt]:
    """A job preempted at each of ``steps`` in turn and restarted with ``--resume`` after each,
    as a requeued job is; the last attempt runs to the end."""
    attempts: list[Attempt] = []
    for step in [*steps, 0]:
        attempts.append(run_once(cwd, *(["--resume"] if attempts else []), preempt_at=step))
        if attempts[-1].code != (EXIT_SIGTERM if step else 0):
            break
    return attempts


def preemption_steps(backend: str) -> list[int]:
    """Ten seeded random steps, all before the uninterrupted run stops."""
    return sorted(random.Random(f"sigterm-{backend}").sample(range(1, BACKENDS[backend][3]), PREEMPTIONS))


@attrs.frozen
class Job:
    """A backend's uninterrupted run and its preempted job, running or done."""

    reference_dir: Path
    job_dir: Path
    reference: Future[Attempt]
    attempts: Future[list[Attempt]]


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Job]]:
    """Every installed backend's runs, two processes at a time (the suite's two cores), from the
    first test on: each test then waits for its own."""
    pool = ThreadPoolExecutor(2)
    folders = {}
    for backend, (module, section, values, _) in BACKENDS.items():
        if importlib.util.find_spec(module) is not None:
            folders[backend] = [tmp_path_factory.mktemp(f"{backend}-{kind}") for kind in ("reference", "job")]
            for folder in folders[backend]:
                (folder / "spec.toml").write_text(SPEC.format(backend=section, **values))
    # the long jobs first, the short uninterrupted runs after, so both processes stay busy
    attempts = {backend: pool.submit(preempted_job, job, preemption_steps(backend))
                for backend, (_, job) in folders.items()}
    yield {backend: Job(reference, job, pool.submit(run_once, reference), attempts[backend])
           for backend, (reference, job) in folders.items()}
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_preempted_by_sigterm_ten_times_then_resumed_ends_bit_identical(jobs: dict[str, Job], backend: str) -> None:
    pytest.importorskip(BACKENDS[backend][0])
    job = jobs[backend]
    reference, attempts = job.reference.result(), job.attempts.result()
    assert reference.code == 0, reference.err
    assert reference.summary["status"] == "stopped", reference.summary  # early stopping decided
    assert reference.summary["steps"] >= BACKENDS[backend][3], reference.summary

    steps = preemption_steps(backend)
    for number, attempt in enumerate(attempts, 1):
        where = f"attempt {number} of the job preempted at steps {steps}"
        if attempt.step == 0:
            assert attempt.code == 0, f"{where}: {attempt.err}"
            continue
        assert attempt.code == EXIT_SIGTERM, f"{where}: {attempt.err}"
        assert (attempt.summary["status"], attempt.summary["steps"]) == ("interrupted", attempt.step), where
        assert attempt.checkpoints[-1:] == [f"step-{attempt.step:09d}"], where
        # no evaluation and no record added: the log is the uninterrupted run's up to that step
        assert attempt.log == [r for r in reference.log if r["step"] <= attempt.step], where
    assert len(attempts) == PREEMPTIONS + 1
    assert outcome(job.job_dir / "runs/r") == outcome(job.reference_dir / "runs/r"), f"preempted at steps {steps}"
