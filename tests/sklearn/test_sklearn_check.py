"""``engine check`` sets a scikit-learn run up as ``run`` does and refuses the same mistakes with
one line, writing nothing; ``run`` refuses them before its run directory exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_tabular.testing import passed_by_check_and_run, refused_by_check_and_run

TREE = "sklearn.tree:DecisionTreeClassifier"

# (id, estimator, backend options, data options, other sections, words of the one error line)
MISTAKES: list[tuple[str, str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    ("monitor of a regressor on a classifier", TREE, {}, {}, {"early_stop": {"monitor": "val/rmse"}},
     ["early_stop.monitor: 'val/rmse' is not a metric the backend reports", "val/accuracy, val/log_loss"]),
    ("monitor not among the scorers", TREE, {"metrics": ["f1", "roc_auc"]}, {},
     {"checkpoint": {"monitor": "val/auc", "save_top_k": 1}},
     ["checkpoint.monitor: 'val/auc'", "it reports: val/f1, val/roc_auc"]),
    ("no predict_proba, no log_loss", "sklearn.linear_model:RidgeClassifier", {}, {},
     {"early_stop": {"monitor": "val/log_loss"}}, ["it reports: val/accuracy"]),
    ("scorer the estimator cannot serve", "sklearn.linear_model:RidgeClassifier", {"metrics": ["neg_log_loss"]},
     {}, {}, ["backend.metrics[0]", "metric 'neg_log_loss' needs predict_proba", "RidgeClassifier"]),
    ("parameter out of range", TREE, {"params": {"max_depth": -1}}, {}, {}, ["backend.params.max_depth"]),
    ("val_fraction 0", TREE, {}, {"val_fraction": 0.0}, {}, ["backend.data.val_fraction"]),
    ("val_fraction 1.5", TREE, {}, {"val_fraction": 1.5}, {}, ["backend.data.val_fraction"]),
    ("one fold", TREE, {}, {}, {"cv": {"folds": 1}}, ["cv.folds: expected an integer >= 2, got 1"]),
]


@pytest.mark.parametrize(("estimator", "options", "data", "sections", "words"), [m[1:] for m in MISTAKES],
                         ids=[m[0] for m in MISTAKES])
def test_check_and_run_refuse_the_mistake_before_anything_is_written(csvs, tmp_path: Path, estimator,
                                                                    options, data, sections, words) -> None:
    spec = {"loop": {"max_steps": 3},
            "backend": {"use": "sklearn", "estimator": estimator, "data": {"train": str(csvs[0]), **data},
                        **options},
            **sections}
    refused_by_check_and_run(spec, tmp_path, words)


@pytest.mark.parametrize(("estimator", "monitor"), [
    ("sklearn.ensemble:RandomForestRegressor", "val/r2"),
    ("sklearn.linear_model:SGDClassifier", "val/accuracy"),
    (TREE, "val/log_loss"),
])
def test_the_reported_metrics_are_the_ones_evaluated(csvs, tmp_path: Path, estimator, monitor) -> None:
    spec = {"loop": {"max_steps": 2},
            "backend": {"use": "sklearn", "estimator": estimator,
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}},
            "early_stop": {"monitor": monitor}}
    passed_by_check_and_run(spec, tmp_path)


def test_a_scorer_served_by_another_method_passes(csvs, tmp_path: Path) -> None:
    spec = {"loop": {"max_steps": 1},
            "backend": {"use": "sklearn", "estimator": "sklearn.linear_model:RidgeClassifier",
                        "metrics": ["roc_auc"], "data": {"train": str(csvs[0]), "valid": str(csvs[1])}},
            "early_stop": {"monitor": "val/roc_auc"}}
    passed_by_check_and_run(spec, tmp_path)
