"""``engine check`` sets an XGBoost run up as ``run`` does and refuses the same mistakes with
one line, writing nothing; ``run`` refuses them before its run directory exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_tabular.testing import passed_by_check_and_run, refused_by_check_and_run

from engine._core.spec.toml_text import dump_toml
from engine.testing import cli

PARAMS = {"objective": "binary:logistic", "nthread": 1}

# (id, backend params, data options, other sections, words of the one error line)
MISTAKES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    ("monitor not in eval_metric", PARAMS, {}, {"early_stop": {"monitor": "val/auc"}},
     ["early_stop.monitor: 'val/auc' is not a metric the backend reports", "it reports: val/logloss"]),
    ("checkpoint monitor", {**PARAMS, "eval_metric": ["auc", "error"]}, {},
     {"checkpoint": {"monitor": "val/eror", "save_top_k": 1}},
     ["checkpoint.monitor: 'val/eror'", "did you mean 'val/error'?", "val/auc, val/error"]),
    ("unknown eval_metric", {**PARAMS, "eval_metric": "aucx"}, {}, {}, ["backend.params", "aucx"]),
    ("parameter out of range", {**PARAMS, "max_depth": -1}, {}, {}, ["backend.params.max_depth"]),
    ("val_fraction 0", PARAMS, {"val_fraction": 0.0}, {}, ["backend.data.val_fraction"]),
    ("val_fraction 1.5", PARAMS, {"val_fraction": 1.5}, {}, ["backend.data.val_fraction"]),
    ("negative seed", PARAMS, {}, {"run": {"seed": -1}}, ["run.seed: expected an integer from 0 to"]),
]


@pytest.mark.parametrize(("params", "data", "sections", "words"), [m[1:] for m in MISTAKES],
                         ids=[m[0] for m in MISTAKES])
def test_check_and_run_refuse_the_mistake_before_anything_is_written(csvs, tmp_path: Path, params,
                                                                    data, sections, words) -> None:
    spec = {"loop": {"max_steps": 5},
            "backend": {"use": "xgboost", "params": params, "data": {"train": str(csvs[0]), **data}},
            **sections}
    refused_by_check_and_run(spec, tmp_path, words)


def test_the_reported_metrics_are_xgboosts_own_names(csvs, tmp_path: Path) -> None:
    spec = {"loop": {"max_steps": 3},
            "backend": {"use": "xgboost", "params": {**PARAMS, "eval_metric": ["auc", "logloss"]},
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}, "eval_train": True},
            "early_stop": {"monitor": "train/auc"}, "checkpoint": {"monitor": "val/logloss", "save_top_k": 1}}
    passed_by_check_and_run(spec, tmp_path)


def test_reading_the_metric_names_leaves_the_model_bit_identical(csvs, tmp_path: Path) -> None:
    models = []
    for name, sections in (("plain", {}), ("watched", {"early_stop": {"monitor": "val/auc", "patience": 100}})):
        spec = {"loop": {"max_steps": 8},
                "backend": {"use": "xgboost", "params": {**PARAMS, "eval_metric": "auc", "subsample": 0.7},
                            "data": {"train": str(csvs[0]), "valid": str(csvs[1])}}, **sections}
        (tmp_path / f"{name}.toml").write_text(dump_toml(spec))
        result = cli("run", f"{name}.toml", "-q", cwd=tmp_path, in_process=True)
        assert result.code == 0, result
        models.append((tmp_path / f"runs/{name}/model/final.ubj").read_bytes())
    assert models[0] == models[1]
