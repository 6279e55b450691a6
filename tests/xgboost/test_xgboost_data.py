"""Data the backend accepts: categorical columns, weights, URLs, import paths; the light entry point."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import xgboost as xgb

from engine.testing import run_spec


def test_categorical_and_weight_columns(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], 300)
    x = rng.normal(size=300)
    label = ((colour == "red") ^ (x > 0)).astype(int)
    pd.DataFrame({"colour": colour, "x": x, "w": rng.uniform(0.5, 2, 300), "label": label}).to_csv(
        tmp_path / "d.csv", index=False)
    spec = {"loop": {"max_steps": 20},
            "backend": {"use": "xgboost",
                        "params": {"objective": "binary:logistic", "eval_metric": "error", "nthread": 1},
                        "data": {"train": str(tmp_path / "d.csv"), "categorical": ["colour"], "weight": "w"}}}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert result.summary["metrics"]["val/error"] < 0.1  # learned the interaction through the category
    model = xgb.Booster(model_file=result.summary["model"]["final"])
    assert model.feature_names == ["colour", "x"] and model.feature_types == ["c", "float"]


def test_reads_a_csv_over_http(csvs, tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(csvs[0].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        spec = {"loop": {"max_steps": 3},
                "backend": {"use": "xgboost", "params": {"objective": "binary:logistic"},
                            "data": {"train": f"{url}/train.csv", "valid": f"{url}/valid.csv"}}}
        result = run_spec(spec, tmp_path / "run")
    finally:
        server.shutdown()
    assert result.status == "completed" and "val/logloss" in result.summary["metrics"]


def test_entry_point_does_not_import_xgboost_or_pandas():
    code = ("import sys; from engine._core.plugins import load_plugins; p = load_plugins(); "
            "assert 'xgboost' in p.registry.of_kind('backend'); "
            "print(sorted(m for m in ('xgboost', 'pandas', 'numpy', 'fsspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_parquet_file_and_ranking_groups(tmp_path):
    rng = np.random.default_rng(1)
    queries = np.repeat(np.arange(40), 10)
    x = rng.normal(size=(400, 3))
    relevance = np.clip(np.round(x[:, 0] + rng.normal(scale=0.3, size=400)), 0, 3)
    frame = pd.DataFrame({"q": queries, "a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "rel": relevance})
    frame.to_parquet(tmp_path / "ranking.parquet")
    spec = {"loop": {"max_steps": 10},
            "backend": {"use": "xgboost", "params": {"objective": "rank:ndcg", "eval_metric": "ndcg@5", "nthread": 1},
                        "data": {"train": str(tmp_path / "ranking.parquet"), "label": "rel", "group": "q"}}}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert result.summary["metrics"]["val/ndcg@5"] > 0.8
    assert xgb.Booster(model_file=result.summary["model"]["final"]).feature_names == ["a", "b", "c"]
