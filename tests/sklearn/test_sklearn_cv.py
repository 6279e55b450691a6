"""``[cv] folds = K`` with a scikit-learn estimator: per-fold runs, mean ± std in summary.json."""

from __future__ import annotations

import json

from engine.testing import run_spec


def test_cross_validation_summary(tmp_path):
    spec = {
        "run": {"seed": 1},
        "loop": {"max_steps": 2},
        "cv": {"folds": 4},
        "backend": {"use": "sklearn", "estimator": "sklearn.ensemble:RandomForestClassifier",
                    "data": {"train": "examples.tabular_data:wine"}},
    }
    result = run_spec(spec, tmp_path / "cv")
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "cv" / "summary.json").read_text())
    accuracy = summary["metrics"]["val/accuracy"]
    assert summary["folds"] == 4 and len(accuracy["values"]) == 4
    assert 0.8 < accuracy["mean"] <= 1.0 and accuracy["std"] >= 0
    folds = [json.loads((tmp_path / "cv" / f"fold-{k}" / "summary.json").read_text()) for k in range(4)]
    assert [f["fold"] for f in folds] == [[k, 4] for k in range(4)]
