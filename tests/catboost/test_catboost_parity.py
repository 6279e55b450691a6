"""The engine's CatBoost model is the model ``CatBoostClassifier.fit`` builds, round for round."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoost, CatBoostClassifier
from catboost.utils import eval_metric

from engine.testing import run_spec

PARAMS = {"loss_function": "Logloss", "depth": 4, "random_seed": 7, "thread_count": 1}


def spec(train: Path, valid: Path, params: dict, **loop: object) -> dict:
    return {
        "run": {"seed": 7},
        "loop": {"eval_every": "10 steps", **loop},
        "backend": {"use": "catboost", "params": params, "data": {"train": str(train), "valid": str(valid)}},
    }


def features(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(path)
    return frame.drop(columns=["label"]), frame["label"]


def raw(model: CatBoost, x: pd.DataFrame) -> np.ndarray:
    return model.predict(x, prediction_type="RawFormulaVal")


@pytest.mark.parametrize("params", [{**PARAMS, "learning_rate": 0.2}, PARAMS,
                                    {**PARAMS, "learning_rate": 0.2, "bootstrap_type": "Bernoulli",
                                     "subsample": 0.7, "rsm": 0.5}],
                         ids=["learning_rate", "learning-rate-catboost-picks", "sampling"])
def test_predictions_are_bit_identical_to_catboost_classifier_fit(csvs, tmp_path, params):
    train, valid = csvs
    result = run_spec(spec(train, valid, params, max_steps=30), tmp_path / "run")
    assert result.status == "completed" and result.summary["steps"] == 30
    final = result.summary["model"]["final"]
    assert final.endswith("final.cbm")

    x, y = features(train)
    reference = CatBoostClassifier(iterations=30, verbose=False, allow_writing_files=False, **params).fit(x, y)
    ours = CatBoost().load_model(final)
    x_valid, _ = features(valid)
    assert ours.tree_count_ == 30 and ours.feature_names_ == list(x.columns)
    assert np.array_equal(raw(ours, x_valid), raw(reference, x_valid))


def test_early_stopping_exports_the_best_rounds_cut_from_the_model(csvs, tmp_path):
    train, valid = csvs
    params = {**PARAMS, "learning_rate": 0.5}
    run = spec(train, valid, params, max_steps=200, eval_every="1 steps")
    run["early_stop"] = {"monitor": "val/Logloss", "patience": 5}
    result = run_spec(run, tmp_path / "run")
    assert result.status == "stopped"
    best_step = result.summary["best"]["step"]
    assert result.summary["steps"] == best_step + 5

    x, y = features(train)
    reference = CatBoostClassifier(iterations=best_step, verbose=False, allow_writing_files=False, **params).fit(x, y)
    best = CatBoost().load_model(result.summary["model"]["best"])
    x_valid, y_valid = features(valid)
    assert best.tree_count_ == best_step
    assert np.array_equal(raw(best, x_valid), raw(reference, x_valid))
    # CatBoost's own Logloss of the best model is what the engine monitored
    loss = eval_metric(y_valid.tolist(), raw(reference, x_valid).tolist(), "Logloss")[0]
    assert result.summary["best"]["value"] == loss


def test_a_multiclass_model_and_its_metrics_match_catboost(tmp_path):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_").replace("(", "").replace(")", "") for c in frame.columns]
    frame.iloc[30:].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[:30].to_csv(tmp_path / "valid.csv", index=False)
    params = {"loss_function": "MultiClass", "depth": 3, "learning_rate": 0.2, "random_seed": 7, "thread_count": 1}
    run = spec(tmp_path / "train.csv", tmp_path / "valid.csv", params, max_steps=20)
    run["backend"]["metrics"] = ["accuracy", "f1_weighted"]
    run["backend"]["params"]["custom_metric"] = ["Accuracy"]
    result = run_spec(run, tmp_path / "run")
    assert result.status == "completed"

    x, y = features(tmp_path / "train.csv")
    reference = CatBoostClassifier(iterations=20, verbose=False, allow_writing_files=False, **params).fit(x, y)
    x_valid, y_valid = features(tmp_path / "valid.csv")
    ours = CatBoost().load_model(result.summary["model"]["final"])
    assert np.array_equal(raw(ours, x_valid), raw(reference, x_valid))
    metrics = result.summary["metrics"]
    assert metrics["val/MultiClass"] == eval_metric(y_valid.tolist(), raw(reference, x_valid).tolist(), "MultiClass")[0]
    accuracy = float((reference.predict(x_valid).ravel() == y_valid).mean())
    assert metrics["val/Accuracy"] == metrics["val/accuracy"] == accuracy
