"""Every spec in examples/ runs end to end through the CLI, with every plugin installed.

Short settings keep the matrix fast: 40 steps, two folds, two trials. The run must
complete (exit 0) and leave a summary, and an example that exports a model must point at a
file that exists.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.toml"))


def short_settings(spec: dict) -> list[str]:
    overrides = ["loop.max_steps=40"]
    if "cv" in spec:
        overrides.append("cv.folds=2")
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_end_to_end(example, tmp_path):
    """Run from the repository root, as the examples say, with every run directory under tmp_path."""
    spec = tomllib.loads(example.read_text())
    name = spec.get("run", {}).get("name", example.stem)
    settings = [*short_settings(spec), "--set", f'run.dir="{tmp_path}"']
    command = ["tune", str(example), "--trials", "2"] if "tune" in spec else ["run", str(example), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "engine", *command, *settings], cwd=REPO,
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / name
    if "tune" in spec:
        assert (run_dir / "best.toml").exists()
        return
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] in ("completed", "stopped"), summary
    for path in summary.get("model", {}).values():
        assert (REPO / path).exists(), path


def test_cross_validated_tuning_example(tmp_path):
    """examples/tune_cv_xgboost.toml as written (5 folds), two trials: every trial is a 5-fold
    cross-validation valued by the mean of each fold's best val/f1, and best.toml keeps [cv]."""
    example = REPO / "examples" / "tune_cv_xgboost.toml"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "engine", "tune", str(example), "--trials", "2",
                             "--set", f'run.dir="{tmp_path}"'], cwd=REPO, capture_output=True, text=True,
                            env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    study = tmp_path / "tune-cv-xgboost"
    with (study / "trials.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["state"] for row in rows] == ["COMPLETE", "COMPLETE"], rows
    for row in rows:
        trial_dir = study / "trials" / row["number"]
        assert sorted(p.name for p in trial_dir.glob("fold-*")) == [f"fold-{k}" for k in range(5)]
        best_per_fold = [max(record["val/f1"] for record in _records(trial_dir / f"fold-{k}" / "metrics.jsonl")
                             if "val/f1" in record) for k in range(5)]
        assert float(row["val/f1"]) == pytest.approx(sum(best_per_fold) / 5)
    best = tomllib.loads((study / "best.toml").read_text())
    assert best["cv"]["folds"] == 5
    assert "tune" not in best


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
