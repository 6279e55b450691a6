"""A run killed with SIGKILL after a checkpoint and resumed ends with the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio

from engine.testing import kill_and_resume


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


def test_sigkill_and_resume_gives_the_same_forest(csvs, tmp_path):
    runs = kill_and_resume(spec(csvs), tmp_path, kill_at=7)
    assert runs.killed.code == -9 and runs.resumed.resumed_from == 6 and runs.resumed.status == "completed"
    resumed = predictions(runs.resumed.summary["model"]["final"], csvs[1])
    assert np.array_equal(resumed, predictions(runs.uninterrupted.summary["model"]["final"], csvs[1]))
