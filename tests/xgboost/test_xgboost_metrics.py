"""``backend.metrics`` (f1, roc_auc, ... and ``module:function``) and ``backend.data.test`` for
XGBoost, through the command line: the metrics come from the booster's predictions at the eval
cadence, drive checkpoints and early stopping in the right direction, and the test split is
evaluated once with the final model; ``engine check`` refuses a metric that does not fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from engine_tabular.testing import (
    CUSTOM_METRIC,
    classifier_metrics,
    refused_by_check_and_run,
    reported,
    write_breast_cancer_splits,
)

from engine import Run, hookimpl
from engine.session import dump_toml
from engine.testing import cli, run_spec

METRICS = ["f1", "roc_auc", "accuracy", "log_loss", "rmse", "my_metrics:positive_share"]


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return write_breast_cancer_splits(tmp_path_factory.mktemp("data"))


def _spec(splits: tuple[Path, Path, Path], params: dict, **sections: object) -> dict:
    train, valid, test = splits
    return {"run": {"seed": 2}, "loop": {"max_steps": 12, "eval_every": "3 steps"},
            "backend": {"use": "xgboost", "params": {"nthread": 1, **params}, "metrics": METRICS,
                        "data": {"train": str(train), "valid": str(valid), "test": str(test)}},
            **sections}


def _run(spec: dict, cwd: Path) -> tuple[dict, list[dict]]:
    (cwd / "my_metrics.py").write_text(CUSTOM_METRIC)
    (cwd / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", "run", "-q", cwd=cwd)
    assert result.code == 0, result
    return reported(cwd / "run")


def _predicted(model: Path, csv: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(csv)
    booster = xgb.Booster(model_file=str(model))
    return frame["label"].to_numpy(), booster.predict(xgb.DMatrix(frame.drop(columns=["label"])))


def test_metrics_at_the_eval_cadence_pick_the_best_model_and_the_test_split_is_evaluated_once(splits, tmp_path):
    spec = _spec(splits, {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3},
                 checkpoint={"monitor": "val/f1", "save_top_k": 2}, early_stop={"monitor": "val/f1", "patience": 50})
    summary, records = _run(spec, tmp_path)

    evals = [r for r in records if "val/f1" in r]
    assert [r["step"] for r in evals] == [3, 6, 9, 12]
    for record in evals:
        assert {"val/logloss", "val/f1", "val/roc_auc", "val/accuracy", "val/log_loss", "val/rmse",
                "val/positive_share"} <= set(record)
    assert summary["best"]["metric"] == "val/f1"
    assert summary["best"]["value"] == max(r["val/f1"] for r in evals)  # f1 grows when better

    # the values are the metrics of the model's own predictions (the final model at the last eval)
    truth, probability = _predicted(tmp_path / summary["model"]["final"], splits[1])
    for name, value in classifier_metrics(truth, probability).items():
        assert evals[-1][f"val/{name}"] == pytest.approx(value, abs=1e-6), name

    tests = [r for r in records if any(k.startswith("test/") for k in r)]
    assert len(tests) == 1 and tests[0]["step"] == 12  # once, at the end
    truth, probability = _predicted(tmp_path / summary["model"]["final"], splits[2])
    for name, value in classifier_metrics(truth, probability).items():
        assert summary["metrics"][f"test/{name}"] == pytest.approx(value, abs=1e-6), name
    assert "test/logloss" in summary["metrics"]  # XGBoost's own eval_metric too


@pytest.mark.parametrize(("monitor", "pick"), [("val/r2", max), ("val/mae", min)])
def test_regression_metrics_are_ranked_in_their_direction(splits, tmp_path, monitor, pick):
    spec = _spec(splits, {"objective": "reg:squarederror", "max_depth": 2, "eta": 0.05},
                 checkpoint={"monitor": monitor, "save_top_k": 1})
    spec["backend"]["metrics"] = ["rmse", "mae", "r2"]
    spec["loop"]["eval_every"] = "1 steps"
    summary, records = _run(spec, tmp_path)
    values = [r[monitor] for r in records if monitor in r]
    assert summary["best"]["value"] == pick(values)


def test_the_test_split_stays_whole_under_cross_validation(splits, tmp_path):
    spec = _spec(splits, {"objective": "binary:logistic", "max_depth": 2})
    spec["cv"] = {"folds": 2}
    _run(spec, tmp_path)
    accuracies = []
    for k in range(2):
        fold, _ = reported(tmp_path / "run" / f"fold-{k}")
        truth, probability = _predicted(tmp_path / fold["model"]["final"], splits[2])
        assert len(truth) == 114
        assert fold["metrics"]["test/accuracy"] == pytest.approx(classifier_metrics(truth, probability)["accuracy"])
        accuracies.append(fold["metrics"]["test/accuracy"])
    summary, _ = reported(tmp_path / "run")
    assert summary["metrics"]["test/accuracy"]["values"] == accuracies


@pytest.mark.parametrize(("objective", "metrics", "words"), [
    ("binary:logistic", ["r2"], ["backend.metrics[0]", "'r2' does not fit a binary classifier"]),
    ("reg:squarederror", ["rmse", "roc_auc"], ["backend.metrics[1]", "'roc_auc' does not fit a regressor"]),
    ("multi:softprob", ["rmse"], ["backend.metrics[0]", "'rmse' does not fit a multi-class classifier"]),
    ("binary:logistic", ["f2"], ["backend.metrics[0]", "unknown metric 'f2'", "f1_weighted"]),
    ("binary:logistic", ["f1", "f1"], ["backend.metrics[1]", "named twice"]),
    ("binary:logistic", ["no_such_module:f"], ["cannot import 'no_such_module:f'"]),
    ("rank:ndcg", ["f1"], ["backend.metrics", "classification or regression objective"]),
])
def test_check_refuses_a_metric_that_does_not_fit(splits, tmp_path, objective, metrics, words):
    params = {"objective": objective, **({"num_class": 3} if objective.startswith("multi:") else {})}
    spec = {"loop": {"max_steps": 2},
            "backend": {"use": "xgboost", "params": params, "metrics": metrics, "data": {"train": str(splits[0])}}}
    if objective.startswith("rank:"):
        spec["backend"]["data"]["group"] = "label"
    refused_by_check_and_run(spec, tmp_path, words)


class InputExample:
    """A tracker's view: the backend's input example at the end of the run."""

    def __init__(self) -> None:
        self.example: object = None

    @hookimpl
    def on_run_end(self, run: Run, status: str) -> None:
        self.example = run.backend.input_example()


def test_input_example_is_five_training_rows_with_their_names(splits, tmp_path):
    tracker = InputExample()
    spec = _spec(splits, {"objective": "binary:logistic"})
    spec["backend"]["metrics"] = ["f1"]
    run_spec(spec, tmp_path / "run", overrides=["loop.max_steps=1"], plugins=[tracker])
    expected = pd.read_csv(splits[0]).drop(columns=["label"]).head(5)
    pd.testing.assert_frame_equal(tracker.example, expected)


def test_multiclass_metrics_are_those_of_the_class_probabilities(tmp_path):
    from sklearn import metrics
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.rename(columns={"target": "label"})
    frame = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    paths = tmp_path / "train.csv", tmp_path / "valid.csv"
    frame.iloc[60:].to_csv(paths[0], index=False)
    frame.iloc[:60].to_csv(paths[1], index=False)
    spec = {"run": {"seed": 0}, "loop": {"max_steps": 5, "eval_every": "5 steps"},
            "backend": {"use": "xgboost", "eval_train": True,
                        "params": {"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "nthread": 1},
                        "metrics": ["f1", "f1_weighted", "accuracy", "roc_auc", "log_loss"],
                        "data": {"train": "train.csv", "valid": "valid.csv"}}}
    summary, records = _run(spec, tmp_path)
    assert {"train/f1", "train/roc_auc", "val/f1", "val/roc_auc"} <= set(records[-1])
    truth, probabilities = _predicted(tmp_path / summary["model"]["final"], paths[1])
    predicted = probabilities.argmax(axis=1)
    expected = {"f1": metrics.f1_score(truth, predicted, average="macro"),
                "f1_weighted": metrics.f1_score(truth, predicted, average="weighted"),
                "accuracy": metrics.accuracy_score(truth, predicted),
                "roc_auc": metrics.roc_auc_score(truth, probabilities, multi_class="ovr"),
                "log_loss": metrics.log_loss(truth, probabilities)}
    for name, value in expected.items():
        assert summary["metrics"][f"val/{name}"] == pytest.approx(value, abs=1e-6), name


@pytest.mark.parametrize(("test", "words"), [
    ("missing.csv", ["backend.data.test", "missing.csv': no such file"]),
    ("fewer_columns.csv", ["backend.data.test", "lacks the training columns 'mean_radius'"]),
])
def test_check_refuses_a_test_split_it_cannot_use(splits, tmp_path, test, words):
    pd.read_csv(splits[2]).drop(columns=["mean_radius"]).to_csv(tmp_path / "fewer_columns.csv", index=False)
    spec = {"loop": {"max_steps": 2},
            "backend": {"use": "xgboost", "params": {"objective": "binary:logistic"},
                        "data": {"train": str(splits[0]), "test": str(tmp_path / test)}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    for command in ("check", "run"):
        result = cli(command, "spec.toml", cwd=tmp_path, in_process=True)
        assert result.code == 2 and len(result.error_lines) == 1 and "Traceback" not in result.err, result
        assert all(word in result.error_lines[0] for word in words), result.error_lines[0]
    assert not (tmp_path / "runs").exists()


def test_runs_in_one_process_read_the_metric_names_of_their_own_parameters(tmp_path: Path) -> None:
    """A study's trials read the metric names once for parameters that cannot change them (eta,
    max_depth); a run whose eval_metric or objective differs still gets its own names."""
    data = {"train": "examples.tabular_data:breast_cancer"}
    runs = [
        ({"eta": 0.1, "eval_metric": "auc"}, "val/auc"),
        ({"eta": 0.3, "max_depth": 2, "eval_metric": "auc"}, "val/auc"),
        ({"eta": 0.1, "eval_metric": "logloss"}, "val/logloss"),
        ({"eta": 0.1}, "val/logloss"),
        ({"objective": "reg:squarederror"}, "val/rmse"),
    ]
    for index, (params, monitor) in enumerate(runs):
        spec = {"run": {"seed": 1}, "loop": {"max_steps": 4, "eval_every": "2 steps"},
                "backend": {"use": "xgboost", "params": {"objective": "binary:logistic", "nthread": 1, **params},
                            "data": data},
                "early_stop": {"monitor": monitor, "patience": 5}}
        result = run_spec(spec, tmp_path / str(index))
        assert result.exit_code == 0
        assert set(name for name in result.summary["metrics"] if name.startswith("val/")) == {monitor}
