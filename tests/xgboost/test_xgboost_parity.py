"""The engine's XGBoost model is the model ``xgb.train`` builds, round for round."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from engine import hookimpl
from engine._core.components import ComponentRegistry
from engine.testing import run_spec

PARAMS = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "eta": 0.3, "seed": 7, "nthread": 1}


def dmatrix(path: Path) -> xgb.DMatrix:
    frame = pd.read_csv(path)
    return xgb.DMatrix(frame.drop(columns=["label"]), label=frame["label"])


def spec(train: Path, valid: Path, **loop: object) -> dict:
    return {
        "run": {"seed": 7},
        "loop": {"eval_every": "1 steps", **loop},
        "backend": {"use": "xgboost", "params": PARAMS,
                    "data": {"train": str(train), "valid": str(valid)}},
    }


def engine_predictions(model: str, valid: Path) -> np.ndarray:
    booster = xgb.Booster(model_file=model)
    return booster.predict(dmatrix(valid))


def test_predictions_are_bit_identical_to_xgb_train(csvs, tmp_path):
    train, valid = csvs
    result = run_spec(spec(train, valid, max_steps=40, eval_every="10 steps"), tmp_path / "run")
    assert result.status == "completed" and result.summary["steps"] == 40

    reference = xgb.train(PARAMS, dmatrix(train), num_boost_round=40)
    ours = engine_predictions(result.summary["model"]["final"], valid)
    assert np.array_equal(ours, reference.predict(dmatrix(valid)))
    assert xgb.Booster(model_file=result.summary["model"]["final"]).feature_names == \
        list(pd.read_csv(train).columns.drop("label"))


def test_early_stopping_stops_at_xgb_trains_best_iteration(csvs, tmp_path):
    train, valid = csvs
    run = spec(train, valid, max_steps=500)
    run["early_stop"] = {"monitor": "val/logloss", "patience": 10}
    result = run_spec(run, tmp_path / "run")

    reference = xgb.train(PARAMS, dmatrix(train), num_boost_round=500, evals=[(dmatrix(valid), "val")],
                          early_stopping_rounds=10, verbose_eval=False)
    assert result.status == "stopped"
    assert result.summary["best"]["step"] == reference.best_iteration + 1
    assert result.summary["steps"] == reference.num_boosted_rounds()
    assert result.summary["best"]["value"] == float(reference.best_score)
    best = engine_predictions(result.summary["model"]["best"], valid)
    truncated = reference.predict(dmatrix(valid), iteration_range=(0, reference.best_iteration + 1))
    assert np.array_equal(best, truncated)


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


def test_scheduler_sets_the_rate_of_every_round_and_logs_it(csvs, tmp_path):
    train, valid = csvs
    run = spec(train, valid, max_steps=30, eval_every="10 steps", log_every="1 steps")
    run["scheduler"] = {"use": "test-halving"}
    result = run_spec(run, tmp_path / "run", plugins=[HalvingPlugin()])

    # XGBoost's callback sets the rate after round i for round i + 1; round 0 keeps eta.
    rates = xgb.callback.LearningRateScheduler(lambda i: 0.3 * 0.5 ** ((i + 1) // 10))
    reference = xgb.train(PARAMS, dmatrix(train), num_boost_round=30, callbacks=[rates])
    ours = engine_predictions(result.summary["model"]["final"], valid)
    assert np.array_equal(ours, reference.predict(dmatrix(valid)))
    logged = {}
    for line in (result.dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "lr" in record.get("metrics", record):
            logged[record["step"]] = record.get("metrics", record)["lr"]
    assert logged[1] == 0.3 and logged[11] == 0.15 and logged[30] == 0.075


def test_a_linear_booster_exports_its_best_model_too(csvs, tmp_path):
    """gblinear cannot be cut back to a round, so its best model is written when it improves."""
    train, valid = csvs
    params = {k: v for k, v in PARAMS.items() if k != "max_depth"} | {"booster": "gblinear"}
    run = spec(train, valid, max_steps=30, eval_every="5 steps")
    run["backend"]["params"] = params
    run["checkpoint"] = {"monitor": "val/logloss"}
    result = run_spec(run, tmp_path / "run")

    best_step = result.summary["best"]["step"]
    reference = xgb.train(params, dmatrix(train), num_boost_round=best_step)
    best = engine_predictions(result.summary["model"]["best"], valid)
    assert np.array_equal(best, reference.predict(dmatrix(valid)))
