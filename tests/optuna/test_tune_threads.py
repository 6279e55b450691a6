"""``[tune] threads``: the workers of ``--workers N`` share the machine's cores instead of each
library taking all of them (XGBoost in two processes on two cores, each with two OpenMP
threads, ran 5-7x slower than with one thread each). Tested through what each worker's
process sees (``OMP_NUM_THREADS`` and the BLAS variables), recorded by a local plugin."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import envspy_records, envspy_spec

from engine import usable_cores

VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@pytest.fixture(autouse=True)
def _no_thread_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _spec(tmp_path: Path, threads: str = "") -> None:
    envspy_spec(tmp_path, VARIABLES, f'devices = "none"\n{threads}')


def test_workers_share_the_cores_by_default(cli, tmp_path: Path) -> None:
    _spec(tmp_path)
    result = cli("tune", "spec.toml", "--workers", "2", timeout=300)
    assert result.code == 0, result
    share = str(max(1, usable_cores() // 2))
    seen = envspy_records(tmp_path)
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
    for records in envspy_records(tmp_path).values():
        for record in records:
            assert record == {"OMP_NUM_THREADS": "7", "OPENBLAS_NUM_THREADS": share, "MKL_NUM_THREADS": share}


def test_threads_in_the_spec_are_each_workers(cli, tmp_path: Path) -> None:
    _spec(tmp_path, "threads = 3")
    result = cli("tune", "spec.toml", "--workers", "2", env={"OMP_NUM_THREADS": "7"}, timeout=300)
    assert result.code == 0, result
    for records in envspy_records(tmp_path).values():
        for record in records:
            assert record == dict.fromkeys(VARIABLES, "3")
    assert "2 workers, 3 threads each" in result.err


def test_one_worker_keeps_the_libraries_defaults(cli, tmp_path: Path) -> None:
    _spec(tmp_path)
    result = cli("tune", "spec.toml", timeout=300)
    assert result.code == 0, result
    for records in envspy_records(tmp_path).values():
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

