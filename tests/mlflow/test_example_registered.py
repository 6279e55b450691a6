"""examples/mlflow/rf_registered.toml as a user runs it, against the real MLflow server: the
forest is registered with its alias, loads back in the sklearn flavour, and a second run that
does not beat it leaves the alias where it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "mlflow" / "rf_registered.toml"


def _run(tmp_path: Path, server: str, *settings: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": server}
    result = subprocess.run([sys.executable, "-m", "engine", "run", str(EXAMPLE), "-q",
                             "--set", f'run.dir="{tmp_path}"', *settings],
                            cwd=REPO, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "engine: warning" not in result.stderr, result.stderr
    return json.loads(sorted(tmp_path.glob("rf-registered*/summary.json"))[-1].read_text())


def test_the_registered_example_registers_its_forest_and_keeps_the_better_one(tmp_path: Path,
                                                                             mlflow_server: str) -> None:
    pytest.importorskip("engine_sklearn", reason="the example trains a scikit-learn forest")
    import mlflow
    from mlflow.tracking import MlflowClient

    first = _run(tmp_path, mlflow_server)
    client = MlflowClient(mlflow_server)
    version = client.get_model_version_by_alias("breast-cancer-rf", "candidate")
    assert version.tags["engine.metric"] == "val/f1"
    assert float(version.tags["engine.metric_value"]) == first["best"]["value"]

    mlflow.set_tracking_uri(mlflow_server)
    forest = mlflow.sklearn.load_model("models:/breast-cancer-rf@candidate")
    assert len(forest.estimators_) > 0

    # Two trees of depth 1 do not beat the forest: no new version takes the alias.
    _run(tmp_path, mlflow_server, "--set", "loop.max_steps=1", "--set", "backend.estimators_per_step=2",
         "--set", "backend.params.max_depth=1")
    assert client.get_model_version_by_alias("breast-cancer-rf", "candidate").version == version.version
