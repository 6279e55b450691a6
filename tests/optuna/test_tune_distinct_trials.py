"""Workers of one study never propose the same parameters; one seeded worker stays reproducible."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv, tune_spec

PARAMS = ("backend.lr", "backend.batch_size", "backend.noise")


def _params(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
    return [tuple(row[name] for name in PARAMS) for row in sorted(rows, key=lambda r: int(r["number"]))]


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_two_workers_never_repeat_each_other(cli, tmp_path: Path, sampler: str) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(trials=20, max_steps=10, pruner="none",
                                                  extra_tune=f'sampler = "{sampler}"'))
    result = cli("tune", "spec.toml", "--workers", "2", timeout=300)
    assert result.code == 0, result
    params = _params(read_trials_csv(tmp_path / "runs" / "study" / "trials.csv"))
    assert len(params) >= 20
    assert len(set(params)) == len(params), f"repeated parameters: {params}"


def test_a_resumed_study_draws_new_parameters_and_one_seeded_worker_is_reproducible(cli, tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / f"{name}.toml").write_text(tune_spec(name=name, trials=3, max_steps=10, pruner="none",
                                                         extra_tune='sampler = "random"'))
        assert cli("tune", f"{name}.toml").code == 0
    first = _params(read_trials_csv(tmp_path / "runs" / "first" / "trials.csv"))
    assert first == _params(read_trials_csv(tmp_path / "runs" / "second" / "trials.csv"))

    resumed = cli("tune", "first.toml", "--trials", "6")
    assert resumed.code == 0, resumed
    params = _params(read_trials_csv(tmp_path / "runs" / "first" / "trials.csv"))
    assert params[:3] == first
    assert len(set(params)) == 6, f"the resumed study repeated earlier trials: {params}"


def test_workers_started_apart_on_one_postgres_study_never_repeat_each_other(tmp_path: Path,
                                                                             postgres_url: str) -> None:
    """Two `engine tune` commands on one RDB study, as on two machines: no worker index, one seed."""
    import os
    import subprocess
    import sys

    import optuna

    (tmp_path / "spec.toml").write_text(tune_spec(trials=12, max_steps=10, pruner="none",
                                                  extra_tune='sampler = "tpe"'))
    command = [sys.executable, "-m", "engine", "tune", "spec.toml", "--storage", postgres_url, "--study", "apart"]
    workers = [subprocess.Popen(command, cwd=tmp_path, env=dict(os.environ), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    trials = optuna.load_study(study_name="apart", storage=postgres_url).get_trials()
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(params) >= 12
    assert len(set(params)) == len(params), f"repeated parameters: {params}"
