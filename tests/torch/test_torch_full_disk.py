"""Exports on a full disk: the run goes on under ``checkpoint.on_error = "warn"``, no partial
file is left in the model folder, and the summary names no model that was not written."""

from __future__ import annotations

import json

from torch_helpers import base_spec, engine, toml_spec


def test_exports_that_do_not_fit_leave_nothing_and_are_not_named(tmp_path, small_disk):
    spec = base_spec(model_args={"hidden": 40_000})  # about 2 MB of weights: more than the 1 MiB disk
    spec["run"]["dir"] = str(small_disk)
    spec["checkpoint"] = {"storage": str(tmp_path / "checkpoints"), "monitor": "val/loss"}
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--plain", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "could not write the best model" in result.stderr
    assert "could not write the final model" in result.stderr
    run_dir = small_disk / "toy"
    assert [p.name for p in run_dir.rglob("*") if ".partial" in p.name] == []
    assert list((run_dir / "model").iterdir()) == []
    assert json.loads((run_dir / "summary.json").read_text())["model"] == {}
    assert not [line for line in result.stderr.splitlines() if line.split()[:1] == ["model"]]  # nor the console
