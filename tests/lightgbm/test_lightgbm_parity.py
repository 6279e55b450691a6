"""The engine's LightGBM model is the model ``lgb.train`` builds, round for round."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from engine import hookimpl
from engine._core.components import ComponentRegistry
from engine.testing import run_spec

PARAMS = {"objective": "binary", "metric": "binary_logloss", "num_leaves": 15, "learning_rate": 0.1,
          "seed": 7, "verbosity": -1, "num_threads": 1}


def features(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.read_csv(path)
    return frame.drop(columns=["label"]), frame["label"]


def dataset(path: Path) -> lgb.Dataset:
    x, y = features(path)
    return lgb.Dataset(x, label=y)


def spec(train: Path, valid: Path, **loop: object) -> dict:
    return {
        "run": {"seed": 7},
        "loop": {"eval_every": "1 steps", **loop},
        "backend": {"use": "lightgbm", "params": PARAMS, "data": {"train": str(train), "valid": str(valid)}},
    }


def predict(model: str, valid: Path) -> np.ndarray:
    return lgb.Booster(model_file=model).predict(features(valid)[0])


def test_predictions_are_bit_identical_to_lgb_train(csvs, tmp_path):
    train, valid = csvs
    result = run_spec(spec(train, valid, max_steps=40, eval_every="10 steps"), tmp_path / "run")
    assert result.status == "completed" and result.summary["steps"] == 40
    reference = lgb.train(PARAMS, dataset(train), num_boost_round=40)
    assert np.array_equal(predict(result.summary["model"]["final"], valid), reference.predict(features(valid)[0]))
    model = lgb.Booster(model_file=result.summary["model"]["final"])
    assert model.feature_name() == list(features(train)[0].columns)
    assert model.current_iteration() == 40


def test_early_stopping_stops_at_lgb_trains_best_iteration(csvs, tmp_path):
    train, valid = csvs
    run = spec(train, valid, max_steps=500)
    run["early_stop"] = {"monitor": "val/binary_logloss", "patience": 10}
    result = run_spec(run, tmp_path / "run")

    train_set = dataset(train)
    reference = lgb.train(PARAMS, train_set, num_boost_round=500,
                          valid_sets=[lgb.Dataset(*features(valid), reference=train_set)], valid_names=["val"],
                          callbacks=[lgb.early_stopping(10, verbose=False)],
                          keep_training_booster=True)  # else lgb.train truncates the model to the best round
    assert result.status == "stopped"
    assert result.summary["best"]["step"] == reference.best_iteration  # LightGBM counts from 1
    assert result.summary["steps"] == reference.current_iteration()
    best = predict(result.summary["model"]["best"], valid)
    assert np.array_equal(best, reference.predict(features(valid)[0], num_iteration=reference.best_iteration))


class Halving:
    def __init__(self, options: object):
        pass

    def factor(self, run) -> float:
        return 0.5 ** (run.step // 10)


class HalvingPlugin:
    @hookimpl
    def engine_register_components(self, registry: ComponentRegistry) -> None:
        registry.add("scheduler", "test-halving", Halving)


def test_scheduler_sets_the_rate_of_every_round_and_logs_it(csvs, tmp_path):
    train, valid = csvs
    run = spec(train, valid, max_steps=30, eval_every="10 steps", log_every="1 steps")
    run["scheduler"] = {"use": "test-halving"}
    result = run_spec(run, tmp_path / "run", plugins=[HalvingPlugin()])

    rates = lgb.reset_parameter(learning_rate=lambda i: 0.1 * 0.5 ** (i // 10))  # before round i
    reference = lgb.train(PARAMS, dataset(train), num_boost_round=30, callbacks=[rates])
    assert np.array_equal(predict(result.summary["model"]["final"], valid), reference.predict(features(valid)[0]))
    logged = {json.loads(line)["step"]: json.loads(line)["lr"]
              for line in (result.dir / "metrics.jsonl").read_text().splitlines() if '"lr"' in line}
    assert logged[1] == 0.1 and logged[11] == 0.05 and logged[30] == 0.025
