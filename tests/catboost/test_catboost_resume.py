"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_tabular.testing import resume_spec

from engine.testing import kill_and_resume

BASE = {"loss_function": "Logloss", "depth": 3, "learning_rate": 0.3, "thread_count": 1}
SAMPLING = {**BASE, "bootstrap_type": "Bernoulli", "subsample": 0.7, "rsm": 0.6}


@pytest.mark.parametrize("params", [BASE, SAMPLING], ids=["no-sampling", "sampling"])
def test_sigkill_and_resume_is_bit_identical(csvs, tmp_path, params):
    spec = resume_spec("catboost", *csvs, params)
    spec["loop"]["max_steps"] = 50
    runs = kill_and_resume(spec, tmp_path, kill_at=30)
    assert runs.killed.code == -9 and runs.resumed.resumed_from == 20
    assert "warning" not in runs.resumed_err
    final = (runs.resumed.dir / "model" / "final.cbm").read_bytes()
    assert final == Path(runs.uninterrupted.summary["model"]["final"]).read_bytes()
    assert runs.resumed.summary["metrics"] == runs.uninterrupted.summary["metrics"]
