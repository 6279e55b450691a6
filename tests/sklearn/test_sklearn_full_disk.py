"""An export that does not fit on the disk: the run goes on under ``checkpoint.on_error = "warn"``,
no partial file is left, and the summary names no model."""

from __future__ import annotations

import json

from engine._core.spec.toml_text import dump_toml


def test_an_export_that_does_not_fit_leaves_nothing_and_is_not_named(cli, csvs, tmp_path, small_disk):
    spec = {"run": {"name": "forest", "seed": 5, "dir": str(small_disk)},
            "loop": {"max_steps": 2, "eval_every": "1 steps"},
            "backend": {"use": "sklearn", "estimator": "sklearn.ensemble:RandomForestClassifier",
                        "estimators_per_step": 200, "export": "joblib",
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--plain")
    assert result.code == 0, result
    assert "could not write the final model" in result.err and "No space left on device" in result.err
    run_dir = small_disk / "forest"
    assert [p.name for p in run_dir.rglob("*") if ".partial" in p.name] == []
    assert json.loads((run_dir / "summary.json").read_text())["model"] == {}
