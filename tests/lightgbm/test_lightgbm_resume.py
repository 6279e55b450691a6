"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_tabular.testing import interrupted_run, resume_spec

from engine.testing import run_spec

BASE = {"objective": "binary", "metric": "binary_logloss", "num_leaves": 15, "verbosity": -1, "num_threads": 1}
SAMPLING = {**BASE, "bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.8}


def spec(train: Path, valid: Path, params: dict, **backend: object) -> dict:
    return resume_spec("lightgbm", train, valid, params, **backend)


@pytest.mark.parametrize("params", [BASE, SAMPLING], ids=["no-sampling", "sampling"])
def test_sigkill_and_resume_is_bit_identical(csvs, tmp_path, params, capfd):
    train, valid = csvs
    uninterrupted = run_spec(spec(train, valid, params), tmp_path / "uninterrupted")
    directory, stderr = interrupted_run(tmp_path, spec(train, valid, params), capfd)
    assert "warning" not in stderr
    final = (directory / "model" / "final.txt").read_bytes()
    assert final == Path(uninterrupted.summary["model"]["final"]).read_bytes()


def test_resume_with_sampling_without_replay_warns(csvs, tmp_path, capfd):
    train, valid = csvs
    _, stderr = interrupted_run(tmp_path, spec(train, valid, SAMPLING, exact_resume=False), capfd)
    assert "does not save its sampler's random state" in stderr
    assert "bagging_fraction=0.7" in stderr
