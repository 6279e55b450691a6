"""A CatBoost run writes only its run directory: no ``catboost_info/`` in the working directory;
``[cv]`` folds each export a native model."""

from __future__ import annotations

import json
import shutil

from engine._core.spec.toml_text import dump_toml
from engine.testing import cli


def test_a_run_leaves_no_catboost_info_in_the_working_directory(csvs, tmp_path):
    shutil.copy(csvs[0], tmp_path / "train.csv")
    spec = {"loop": {"max_steps": 5, "eval_every": "2 steps", "checkpoint_every": "2 steps"},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "thread_count": 1},
                        "metrics": ["accuracy"], "data": {"train": "train.csv"}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "-q", cwd=tmp_path)  # a subprocess in tmp_path, as a user runs it
    assert result.code == 0, result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "spec.toml", "train.csv"]
    assert not list(tmp_path.rglob("catboost_info"))
    assert (tmp_path / "runs" / "spec" / "model" / "final.cbm").is_file()


def test_cross_validation_exports_each_folds_model(tmp_path):
    spec = {"run": {"seed": 1}, "loop": {"max_steps": 6, "eval_every": "3 steps"}, "cv": {"folds": 3},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "depth": 3, "thread_count": 1},
                        "metrics": ["roc_auc"], "data": {"train": "examples.tabular_data:breast_cancer"}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", str(tmp_path / "cv"), "-q", cwd=tmp_path, in_process=True)
    assert result.code == 0, result
    summary = json.loads((tmp_path / "cv" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["folds"] == 3
    auc = summary["metrics"]["val/roc_auc"]["values"]
    assert len(set(auc)) == 3 and "val/Logloss" in summary["metrics"]
    for k in range(3):
        assert (tmp_path / "cv" / f"fold-{k}" / "model" / "final.cbm").is_file()
