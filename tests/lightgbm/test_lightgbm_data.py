"""Categorical and weight columns reach LightGBM; the entry point stays light."""

from __future__ import annotations

import subprocess
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd

from engine.testing import run_spec


def test_categorical_and_weight_columns(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], 400)
    x = rng.normal(size=400)
    label = ((colour == "red") ^ (x > 0)).astype(int)
    pd.DataFrame({"colour": colour, "x": x, "w": rng.uniform(0.5, 2, 400), "label": label}).to_csv(
        tmp_path / "d.csv", index=False)
    spec = {"loop": {"max_steps": 30},
            "backend": {"use": "lightgbm",
                        "params": {"objective": "binary", "metric": "binary_error", "min_data_in_leaf": 5,
                                   "num_threads": 1},
                        "data": {"train": str(tmp_path / "d.csv"), "categorical": ["colour"], "weight": "w"}}}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert result.summary["metrics"]["val/binary_error"] < 0.1
    model = lgb.Booster(model_file=result.summary["model"]["final"])
    assert model.feature_name() == ["colour", "x"]
    assert model.dump_model()["pandas_categorical"] == [["blue", "green", "red"]]


def test_entry_point_does_not_import_lightgbm_or_pandas():
    code = ("import sys; from engine._core.plugins import load_plugins; p = load_plugins(); "
            "assert 'lightgbm' in p.registry.of_kind('backend'); "
            "print(sorted(m for m in ('lightgbm', 'pandas', 'numpy', 'fsspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
