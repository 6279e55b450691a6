"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_tabular.testing import resume_spec

from engine.testing import kill_and_resume, resume_after_kill

BASE = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "eta": 0.3, "nthread": 1}
SAMPLING = {**BASE, "subsample": 0.7, "colsample_bytree": 0.8}


def spec(train: Path, valid: Path, params: dict, **backend: object) -> dict:
    return resume_spec("xgboost", train, valid, params, **backend)


@pytest.mark.parametrize("params", [BASE, SAMPLING], ids=["no-sampling", "sampling"])
def test_sigkill_and_resume_is_bit_identical(csvs, tmp_path, params):
    runs = kill_and_resume(spec(*csvs, params), tmp_path, kill_at=50)
    assert runs.killed.code == -9 and runs.resumed.resumed_from == 40
    assert "warning" not in runs.resumed_err
    final = (runs.resumed.dir / "model" / "final.ubj").read_bytes()
    assert final == Path(runs.uninterrupted.summary["model"]["final"]).read_bytes()


def test_resume_with_sampling_without_replay_warns(csvs, tmp_path):
    stderr = resume_after_kill(spec(*csvs, SAMPLING, exact_resume=False), tmp_path / "run", kill_at=50).resumed_err
    assert "does not save its sampler's random state" in stderr
    assert "subsample=0.7" in stderr
