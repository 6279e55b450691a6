"""``engine check`` and ``engine run`` refuse a CatBoost spec's mistakes with one line, writing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_tabular.testing import passed_by_check_and_run, refused_by_check_and_run

from engine._core.spec.toml_text import dump_toml
from engine.testing.without import engine_without

PARAMS = {"loss_function": "Logloss", "depth": 3, "thread_count": 1}

# (id, backend params, other backend options, other sections, words of the one error line)
MISTAKES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], list[str]]] = [
    ("parameter out of range", {**PARAMS, "depth": 99}, {}, {}, ["backend.params.depth", "catboost rejected"]),
    ("unknown loss", {**PARAMS, "loss_function": "Loglos"}, {"metrics": ["f1"]}, {},
     ["backend.params.loss_function", "Loglos loss is not supported"]),
    ("unknown eval_metric", {**PARAMS, "eval_metric": "AUCX"}, {}, {}, ["backend.params.eval_metric"]),
    ("rounds are the loop's", {**PARAMS, "iterations": 100}, {}, {}, ["backend.params.iterations", "max_steps"]),
    ("early stopping is the engine's", {**PARAMS, "od_wait": 10}, {}, {}, ["backend.params.od_wait", "[early_stop]"]),
    ("files are the engine's", {**PARAMS, "train_dir": "out"}, {}, {}, ["backend.params.train_dir"]),
    ("threads", {**PARAMS, "thread_count": 100000}, {}, {},
     ["backend.params.thread_count: thread_count = 100000 is more than this machine can run"]),
    ("metric for another task", PARAMS, {"metrics": ["r2"]}, {}, ["backend.metrics[0]", "'r2'"]),
    ("monitor not reported", PARAMS, {}, {"early_stop": {"monitor": "val/AUC"}},
     ["early_stop.monitor: 'val/AUC' is not a metric the backend reports", "val/Logloss"]),
    ("missing label column", PARAMS, {"data": {"label": "diagnosis"}}, {}, ["backend.data.label", "'diagnosis'"]),
]


@pytest.mark.parametrize(("params", "backend", "sections", "words"), [m[1:] for m in MISTAKES],
                         ids=[m[0] for m in MISTAKES])
def test_check_and_run_refuse_the_mistake_before_anything_is_written(csvs, tmp_path: Path, params, backend,
                                                                    sections, words) -> None:
    data = {"train": str(csvs[0]), **backend.pop("data", {})}
    spec = {"loop": {"max_steps": 3},
            "backend": {"use": "catboost", "params": params, "data": data, **backend}, **sections}
    refused_by_check_and_run(spec, tmp_path, words)


def test_catboost_and_engine_metrics_can_be_monitored(csvs, tmp_path: Path) -> None:
    spec = {"loop": {"max_steps": 3},
            "backend": {"use": "catboost", "params": {**PARAMS, "custom_metric": ["AUC"]}, "metrics": ["f1"],
                        "data": {"train": str(csvs[0]), "valid": str(csvs[1])}, "eval_train": True},
            "early_stop": {"monitor": "train/AUC"}, "checkpoint": {"monitor": "val/f1", "save_top_k": 1}}
    passed_by_check_and_run(spec, tmp_path)


def test_without_the_catboost_package_check_names_it(csvs, tmp_path):
    spec = {"loop": {"max_steps": 3}, "backend": {"use": "catboost", "data": {"train": str(csvs[0])}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    for command in (["check", "spec.toml"], ["run", "spec.toml", "--run-dir", "run"]):
        result = engine_without(["catboost"], command, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "needs the Python package 'catboost'" in lines[0], result.stderr
        assert "pip install" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
