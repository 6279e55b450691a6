"""Categorical columns go to CatBoost as its own categorical features; a scheduler sets each
round's learning rate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from catboost import CatBoost
from catboost.utils import eval_metric

from engine import hookimpl
from engine._core.components import ComponentRegistry
from engine.testing import run_spec


def test_categorical_columns_are_catboost_categorical_features(csvs, tmp_path):
    frame = pd.read_csv(csvs[0])
    frame["size"] = np.where(frame["mean_radius"] > 14, "big", "small").astype(object)
    frame.loc[::7, "size"] = None  # a missing category is a category of its own
    frame.to_csv(tmp_path / "train.csv", index=False)
    spec = {"loop": {"max_steps": 5, "eval_every": "5 steps"},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "thread_count": 1},
                        "metrics": ["accuracy"],
                        "data": {"train": str(tmp_path / "train.csv"), "categorical": ["size"]}}}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed", result.summary
    model = CatBoost().load_model(result.summary["model"]["final"])
    assert model.get_cat_feature_indices() == [list(frame.columns.drop("label")).index("size")]


class Halving:
    """A scheduler component: the rate halves every 10 rounds."""

    def __init__(self, options: object):
        pass

    def factor(self, run) -> float:
        return 0.5 ** (run.step // 10)


class HalvingPlugin:
    @hookimpl
    def engine_register_components(self, registry: ComponentRegistry) -> None:
        registry.add("scheduler", "test-halving", Halving)


def test_scheduler_sets_each_rounds_rate_and_logs_it(csvs, tmp_path):
    spec = {"loop": {"max_steps": 20, "log_every": "1 steps"}, "scheduler": {"use": "test-halving"},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "learning_rate": 0.4,
                                                      "thread_count": 1},
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}}}
    result = run_spec(spec, tmp_path / "run", plugins=[HalvingPlugin()])
    assert result.status == "completed"
    logged = {}
    for line in (result.dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "lr" in record.get("metrics", record):
            logged[record["step"]] = record.get("metrics", record)["lr"]
    assert logged[1] == 0.4 and logged[11] == 0.2 and logged[20] == 0.2



class InputExample:
    """A tracker's view: the backend's input example at the end of the run."""

    def __init__(self) -> None:
        self.example: object = None

    @hookimpl
    def on_run_end(self, run, status: str) -> None:
        self.example = run.backend.input_example()


def test_input_example_is_five_training_rows_as_the_model_takes_them(csvs, tmp_path):
    frame = pd.read_csv(csvs[0])
    frame["size"] = np.where(frame["mean_radius"] > 14, "big", None)
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[:60].to_csv(tmp_path / "valid.csv", index=False)
    tracker = InputExample()
    spec = {"loop": {"max_steps": 2},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "thread_count": 1},
                        "data": {"train": str(tmp_path / "train.csv"), "valid": str(tmp_path / "valid.csv"),
                                 "categorical": ["size"]}}}
    result = run_spec(spec, tmp_path / "run", plugins=[tracker])
    assert result.status == "completed"
    expected = frame.drop(columns=["label"]).head(5).assign(size=lambda f: f["size"].fillna("nan"))
    pd.testing.assert_frame_equal(tracker.example, expected, check_dtype=False)
    model = CatBoost().load_model(result.summary["model"]["final"])
    assert len(model.predict(tracker.example)) == 5  # the exported model takes it as it is


def test_a_test_split_is_evaluated_once_with_the_final_model(csvs, tmp_path):
    spec = {"loop": {"max_steps": 8, "eval_every": "4 steps"},
            "backend": {"use": "catboost", "params": {"loss_function": "Logloss", "thread_count": 1},
                        "metrics": ["f1"], "data": {"train": str(csvs[0]), "test": str(csvs[1])}}}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    metrics = result.summary["metrics"]
    assert {"test/Logloss", "test/f1", "val/Logloss", "val/f1"} <= set(metrics)

    frame = pd.read_csv(csvs[1])
    model = CatBoost().load_model(result.summary["model"]["final"])
    approx = model.predict(frame.drop(columns=["label"]), prediction_type="RawFormulaVal")
    assert metrics["test/Logloss"] == eval_metric(frame["label"].astype(float).tolist(), approx.tolist(), "Logloss")[0]
    tested = [json.loads(line) for line in (result.dir / "metrics.jsonl").read_text().splitlines()
              if "test/Logloss" in line]
    assert len(tested) == 1
