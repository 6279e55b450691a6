"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from engine_tabular.testing import cli_in_process, kill_after_checkpoint, write_slowdown_plugin

from engine._core.spec.toml_text import dump_toml
from engine.testing import run_spec


def spec(csvs: tuple[Path, Path]) -> dict:
    return {
        "run": {"seed": 3},
        "loop": {"max_steps": 12, "eval_every": "2 steps", "checkpoint_every": "3 steps"},
        "checkpoint": {"storage_options": {"fsync": False}},
        "backend": {"use": "sklearn", "estimator": "sklearn.ensemble:RandomForestClassifier",
                    "params": {"max_depth": 4, "max_features": 0.5}, "estimators_per_step": 3,
                    "data": {"train": str(csvs[0]), "valid": str(csvs[1])}},
    }


def predictions(path: str | Path, valid: Path) -> np.ndarray:
    model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    return model.predict_proba(pd.read_csv(valid).drop(columns=["label"]))


def test_sigkill_and_resume_gives_the_same_forest(csvs, tmp_path, capfd):
    uninterrupted = run_spec(spec(csvs), tmp_path / "uninterrupted")
    run = spec(csvs)
    run["run"]["plugins"] = [write_slowdown_plugin(tmp_path, 0.1)]
    (tmp_path / "spec.toml").write_text(dump_toml(run))
    directory = tmp_path / "interrupted"
    args = ["run", "spec.toml", "--run-dir", str(directory), "--quiet"]
    assert kill_after_checkpoint(args, tmp_path, directory / "checkpoints") < 12
    assert cli_in_process([*args, "--resume"], tmp_path) == 0, capfd.readouterr().err
    resumed = predictions(directory / "model" / "final.skops", csvs[1])
    assert np.array_equal(resumed, predictions(uninterrupted.summary["model"]["final"], csvs[1]))
