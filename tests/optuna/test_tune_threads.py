"""``[tune] threads``: the workers of ``--workers N`` share the machine's cores instead of each
library taking all of them (XGBoost in two processes on two cores, each with two OpenMP
threads, ran 5-7x slower than with one thread each). Tested through what each worker's
process sees (``OMP_NUM_THREADS`` and the BLAS variables), recorded by a local plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from optuna_helpers import tune_spec

from engine import usable_cores

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

ENVSPY = f'''
import json
import os


def on_run_start(run):
    seen = {{name: os.environ.get(name) for name in {VARIABLES!r}}}
    seen["pid"] = os.getpid()
    (run.dir / "envspy.json").write_text(json.dumps(seen))
'''


@pytest.fixture(autouse=True)
def _no_thread_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _spec(tmp_path: Path, threads: str = "") -> None:
    (tmp_path / "envspy.py").write_text(ENVSPY)
    # trials of about a second each: both workers are up before the study's trials are all taken
    text = tune_spec(trials=4, max_steps=20, step_seconds=0.075, pruner="none",
                     extra_tune=f'sampler = "random"\ndevices = "none"\n{threads}')
    (tmp_path / "spec.toml").write_text(text.replace("seed = 0\n", 'seed = 0\nplugins = ["envspy"]\n', 1))


def _seen_by_worker(tmp_path: Path) -> dict[int, list[dict[str, str | None]]]:
    trials = sorted((tmp_path / "runs" / "study" / "trials").iterdir())
    assert len(trials) == 4, trials
    seen: dict[int, list[dict[str, str | None]]] = {}
    for trial in trials:
        record = json.loads((trial / "envspy.json").read_text())
        seen.setdefault(record.pop("pid"), []).append(record)
    return seen


def test_workers_share_the_cores_by_default(cli, tmp_path: Path) -> None:
    _spec(tmp_path)
    result = cli("tune", "spec.toml", "--workers", "2", timeout=300)
    assert result.code == 0, result
    share = str(max(1, usable_cores() // 2))
    seen = _seen_by_worker(tmp_path)
    assert len(seen) == 2, f"both workers, the command and the process it started, should run trials: {seen}"
    for records in seen.values():
        for record in records:
            assert record == dict.fromkeys(VARIABLES, share), seen
    thread_word = "thread" if share == "1" else "threads"
    assert f"2 workers, {share} {thread_word} each" in result.err


def test_a_thread_count_the_user_set_is_kept(cli, tmp_path: Path) -> None:
    _spec(tmp_path)
    result = cli("tune", "spec.toml", "--workers", "2", env={"OMP_NUM_THREADS": "7"}, timeout=300)
    assert result.code == 0, result
    share = str(max(1, usable_cores() // 2))
    for records in _seen_by_worker(tmp_path).values():
        for record in records:
            assert record == {"OMP_NUM_THREADS": "7", "OPENBLAS_NUM_THREADS": share, "MKL_NUM_THREADS": share}


def test_threads_in_the_spec_are_each_workers(cli, tmp_path: Path) -> None:
    _spec(tmp_path, "threads = 3")
    result = cli("tune", "spec.toml", "--workers", "2", env={"OMP_NUM_THREADS": "7"}, timeout=300)
    assert result.code == 0, result
    for records in _seen_by_worker(tmp_path).values():
        for record in records:
            assert record == dict.fromkeys(VARIABLES, "3")
    assert "2 workers, 3 threads each" in result.err


def test_one_worker_keeps_the_libraries_defaults(cli, tmp_path: Path) -> None:
    _spec(tmp_path)
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    for records in _seen_by_worker(tmp_path).values():
        for record in records:
            assert record == dict.fromkeys(VARIABLES), record
    assert "thread" not in result.err.splitlines()[0]


@pytest.mark.parametrize("threads, expected", [
    ("threads = 0", "tune.threads"),
    ('threads = "many"', "tune.threads"),
    ("threads = 100000", "tune.threads: threads = 100000 is more than this machine can run"),
])
def test_a_thread_count_it_cannot_use_is_refused_by_check_and_tune(cli, tmp_path: Path, threads: str,
                                                                   expected: str) -> None:
    _spec(tmp_path, threads)
    for command in (("check", "spec.toml"), ("tune", "spec.toml", "--workers", "2")):
        result = cli(*command, timeout=300)
        assert result.code == 2, result
        assert expected in result.err, result
        assert "Traceback" not in result.err
    assert not (tmp_path / "runs" / "study" / "study.db").exists()

