"""Pruning stops torch and XGBoost trials early too (skipped unless those plugins are installed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv

REPO = Path(__file__).resolve().parents[2]

TORCH_TUNE = """
[tune]
n_trials = 6
metric = "val/loss"
pruner = "median"
pruner_options = { n_startup_trials = 2 }
sampler_options = { seed = 0 }
[tune.space]
"backend.optimizer.lr" = { float = [1e-5, 1e-1], log = true }
"backend.model_args.hidden" = { int = [8, 64], log = true }
"""

XGBOOST_TUNE = """
[tune]
n_trials = 6
metric = "val/logloss"
pruner = "median"
pruner_options = { n_startup_trials = 2 }
sampler_options = { seed = 0 }
[tune.space]
"backend.params.eta" = { float = [1e-3, 0.5], log = true }
"backend.params.max_depth" = { int = [2, 6] }
"""


def _tune_example(cli, tmp_path: Path, example: str, tune: str, *sets: str) -> list[dict[str, str]]:
    text = (REPO / "examples" / example).read_text()
    (tmp_path / "spec.toml").write_text(text + tune)
    overrides = [arg for assignment in sets for arg in ("--set", assignment)]
    result = cli("tune", "spec.toml", "--set", "run.name='study'", *overrides,
                 env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}, timeout=300)
    assert result.code == 0, result
    return read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")


def _assert_pruned_early(rows: list[dict[str, str]], full: int) -> None:
    pruned = [int(r["steps"]) for r in rows if r["state"] == "PRUNED"]
    complete = [int(r["steps"]) for r in rows if r["state"] == "COMPLETE"]
    assert complete and pruned, rows
    assert min(pruned) < full and min(pruned) < max(complete), rows


def test_torch_trials_are_pruned_early(cli, tmp_path: Path) -> None:
    pytest.importorskip("engine_torch")
    pytest.importorskip("sklearn")
    rows = _tune_example(cli, tmp_path, "digits_mlp.toml", TORCH_TUNE, "loop.max_epochs=6",
                         "loop.checkpoint_every='never'", "early_stop.patience=100")
    _assert_pruned_early(rows, full=6 * 23)


def test_xgboost_trials_are_pruned_early(cli, tmp_path: Path) -> None:
    pytest.importorskip("engine_xgboost")
    pytest.importorskip("engine_tabular")
    rows = _tune_example(cli, tmp_path, "breast_cancer_xgboost.toml", XGBOOST_TUNE, "loop.max_steps=100",
                         "loop.checkpoint_every='never'", "early_stop.patience=100")
    _assert_pruned_early(rows, full=100)
