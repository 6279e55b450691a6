"""scikit-learn estimators on the engine loop: growth per step, partial_fit passes, one-step fits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier

from engine.testing import run_spec


def data(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(path)
    return frame.drop(columns=["label"]), frame["label"]


def spec(csvs: tuple[Path, Path], estimator: str, params: dict, **loop: object) -> dict:
    return {"run": {"seed": 5}, "loop": {"eval_every": "1 steps", **loop},
            "backend": {"use": "sklearn", "estimator": estimator, "params": params, "estimators_per_step": 5,
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}}}


def load(path: str) -> object:
    return sio.load(path, trusted=sio.get_untrusted_types(file=path))


def test_random_forest_grows_per_step_like_a_forest_fit_at_once(csvs, tmp_path):
    result = run_spec(spec(csvs, "sklearn.ensemble:RandomForestClassifier", {"max_depth": 4}, max_steps=4),
                      tmp_path / "run")
    assert result.status == "completed"
    model = load(result.summary["model"]["final"])
    assert len(model.estimators_) == 20
    reference = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=5).fit(*data(csvs[0]))
    x_val = data(csvs[1])[0]
    assert np.array_equal(model.predict_proba(x_val), reference.predict_proba(x_val))
    evals = [json.loads(line) for line in (result.dir / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals if "val/accuracy" in e] == [1, 2, 3, 4]
    assert {"val/accuracy", "val/log_loss"} <= set(result.summary["metrics"])


def test_partial_fit_takes_one_pass_per_step(csvs, tmp_path):
    params = {"loss": "log_loss", "alpha": 0.01, "shuffle": True}
    result = run_spec(spec(csvs, "sklearn.linear_model:SGDClassifier", params, max_steps=3), tmp_path / "run")
    model = load(result.summary["model"]["final"])
    reference = SGDClassifier(**params, random_state=5)
    for _ in range(3):
        reference.partial_fit(*data(csvs[0]), classes=[0.0, 1.0])
    assert np.array_equal(model.coef_, reference.coef_)


def test_other_estimators_fit_in_one_step(csvs, tmp_path):
    result = run_spec(spec(csvs, "sklearn.neighbors:KNeighborsClassifier", {"n_neighbors": 7}, max_steps=50),
                      tmp_path / "run")
    assert result.status == "stopped" and result.summary["steps"] == 1
    assert "fits in one step" in result.summary["reason"]
    assert result.summary["metrics"]["val/accuracy"] > 0.8  # unscaled k-NN; the majority class is 0.63


def test_regressor_metrics_and_scorer_names(tmp_path):
    base = {"run": {"seed": 0}, "loop": {"max_steps": 2},
            "backend": {"use": "sklearn", "estimator": "sklearn.ensemble:ExtraTreesRegressor",
                        "data": {"train": "examples.tabular_data:diabetes"}}}
    result = run_spec(base, tmp_path / "default")
    assert {"val/rmse", "val/mae", "val/r2"} == {k for k in result.summary["metrics"] if k.startswith("val/")}
    base["backend"]["metrics"] = ["neg_mean_absolute_error"]
    result = run_spec(base, tmp_path / "named")
    assert result.summary["metrics"]["val/neg_mean_absolute_error"] < 0


@pytest.mark.parametrize("choice, suffix", [("skops", ".skops"), ("joblib", ".joblib")])
def test_export_formats(csvs, tmp_path, choice, suffix):
    run = spec(csvs, "sklearn.tree:DecisionTreeClassifier", {"max_depth": 3}, max_steps=1)
    run["backend"]["export"] = choice
    result = run_spec(run, tmp_path / "run")
    assert result.summary["model"]["final"].endswith(suffix)
