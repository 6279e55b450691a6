"""After a resume, summary.json names the best model exported before it (issue 19, item 6)."""

from __future__ import annotations

import json

from engine.testing.restarts import write_kill_plugin

SPEC = """
[run]
name = "r"
plugins = ["killer"]

[loop]
max_steps = 40
eval_every = "5 steps"
checkpoint_every = "10 steps"

[backend]
use = "testing"
noise = 1.0
lr = 0.3

[checkpoint]
monitor = "val/loss"
storage_options = { fsync = false }
"""


def test_the_best_model_exported_before_a_resume_is_in_the_summary(cli, tmp_path):
    write_kill_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC)
    reference = cli("run", "spec.toml", "--quiet", "--run-dir", "reference")
    assert reference.code == 0, reference
    expected = json.loads((tmp_path / "reference/summary.json").read_text())
    assert expected["best"]["step"] == 20  # best at step 20, checkpointed at 20, no improvement after

    killed = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "23"})
    assert killed.code == -9, killed
    resumed = cli("run", "spec.toml", "--quiet", "--resume")
    assert resumed.code == 0, resumed

    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["best"] == expected["best"]
    assert summary["model"] == {"best": "runs/r/model/best.json", "final": "runs/r/model/final.json"}
    assert (tmp_path / summary["model"]["best"]).read_bytes() == (tmp_path / "reference/model/best.json").read_bytes()
