"""A NaN is never a success (torch on CPU): a loss or a model that turns non-finite at the last
step fails the run (exit 1), exports no model, commits no checkpoint of the bad state, and the
reason names the last good checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faults_helpers import Checkpoints, start

SPEC = """
[run]
name = "r"
seed = 7

[loop]
max_steps = {max_steps}
eval_every = "5 steps"
checkpoint_every = "4 steps"
log_every = "5 steps"

[backend]
use = "torch"
model = "faults_data:tiny"
data = "faults_data:tensors"
batch_size = 16
optimizer = {optimizer}
device = "cpu"
threads = 1

[checkpoint]
monitor = "val/loss"
"""

CASES = {
    # the loss overflows at step 5, the last one
    "loss": (5, '{ use = "adamw", lr = 1e6 }',
             "train/loss became inf by step 5; the last good checkpoint is step-000000004"),
    # the only step's loss is finite (computed before its update); the weights it leaves are not
    "weights": (1, '{ use = "sgd", lr = 3e38, weight_decay = 10.0 }',
                "the model's weights became non-finite by step 1; no good checkpoint was written"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_non_finite_loss_or_model_at_the_last_step_fails_the_run(tmp_path: Path, case: str) -> None:
    pytest.importorskip("engine_torch")
    max_steps, optimizer, reason = CASES[case]
    (tmp_path / "spec.toml").write_text(SPEC.format(max_steps=max_steps, optimizer=optimizer))
    process = start(tmp_path, "run", "spec.toml", "--quiet")
    _, err = process.communicate(timeout=180)
    assert process.returncode == 1, err
    assert f"engine: error: {reason}" in err
    run_dir = tmp_path / "runs/r"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["status"], summary["reason"], summary["model"]) == ("failed", reason, {})
    assert not any((run_dir / "model").glob("*")), "a non-finite model was exported"
    good = reason.rpartition(" is ")[2] if "last good" in reason else None
    assert Checkpoints(run_dir).committed() == ([good] if good else [])
