"""Against a real tracking server: params, metrics at their steps, tags, artifacts, cadence."""

from __future__ import annotations

import math
from pathlib import Path

from mlflow.tracking import MlflowClient
from mltools import artifact_paths, artifact_text, history, logged, only_run, runs_in

from engine.testing import run_spec


def _spec(server: str, experiment: str, **tracker: object) -> dict[str, object]:
    return {
        "run": {"name": "regression", "description": "a linear model for the test"},
        "loop": {"max_steps": 30, "log_every": "5 steps", "eval_every": "10 steps"},
        "backend": {"use": "testing", "lr": 0.05},
        "tracker": [{"use": "mlflow", "tracking_uri": server, "experiment": experiment, **tracker}],
    }


def test_params_metrics_tags_and_artifacts_reach_the_server(mlflow_server, tmp_path):
    secret_uri = mlflow_server.replace("http://", "http://user:hunter2@")
    spec = _spec(secret_uri, "exp-server", tags={"team": "vision"})
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert not result.summary.get("warnings")

    client = MlflowClient(mlflow_server)
    found = only_run(client, "exp-server")
    run_id = found.info.run_id
    assert found.info.status == "FINISHED"
    assert found.info.run_name == "regression"

    params = found.data.params
    assert params["loop.max_steps"] == "30"
    assert params["loop.eval_every"] == "10 steps"
    assert params["backend.use"] == "testing"
    assert params["backend.lr"] == "0.05"
    assert params["tracker.0.use"] == "mlflow"
    assert params["tracker.0.tags.team"] == "vision"
    assert params["tracker.0.tracking_uri"] == mlflow_server.replace("http://", "http://***@")
    assert not any("hunter2" in value for value in params.values())

    for key in ("train/loss", "lr", "val/loss", "val/mae"):
        assert history(client, run_id, key) == logged(result.dir, key), key
    assert [step for step, _ in history(client, run_id, "train/loss")] == [5, 10, 15, 20, 25, 30]
    assert [step for step, _ in history(client, run_id, "val/loss")] == [10, 20, 30]

    tags = found.data.tags
    assert tags["team"] == "vision"
    assert tags["engine.status"] == "completed"
    assert tags["engine.run_name"] == "regression"
    assert tags["engine.backend"] == "testing"
    assert tags["mlflow.note.content"] == "a linear model for the test"

    assert artifact_paths(client, run_id) == ["env.json", "model/final.json", "spec.toml", "summary.json"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    assert artifact_text(client, run_id, "spec.toml", downloads) == (result.dir / "spec.toml").read_text()
    assert artifact_text(client, run_id, "model/final.json", downloads) == \
        (result.dir / "model" / "final.json").read_text()


def test_failed_run_is_marked_failed_with_its_reason(mlflow_server, tmp_path):
    spec = _spec(mlflow_server, "exp-failed")
    spec["backend"] = {"use": "testing", "fail_at_step": 12}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "failed"

    client = MlflowClient(mlflow_server)
    found = only_run(client, "exp-failed")
    assert found.info.status == "FAILED"
    assert found.data.tags["engine.status"] == "failed"
    assert "testing backend failure at step 12" in found.data.tags["engine.stop_reason"]
    assert [step for step, _ in history(client, found.info.run_id, "train/loss")] == [5, 10]
    assert "model" not in artifact_paths(client, found.info.run_id)[0]


def test_two_trackers_each_at_its_own_cadence(mlflow_server, tmp_path):
    spec = _spec(mlflow_server, "exp-cadence", run_name="every-4", log_every=4)
    spec["loop"] = {"max_steps": 20, "log_every": "2 steps", "eval_every": "10 steps"}
    spec["tracker"].append({"use": "mlflow", "tracking_uri": mlflow_server, "experiment": "exp-cadence",  # type: ignore[attr-defined]
                            "run_name": "every-2"})
    assert run_spec(spec, tmp_path / "run").status == "completed"

    client = MlflowClient(mlflow_server)
    runs = {found.info.run_name: found.info.run_id for found in runs_in(client, "exp-cadence")}
    assert sorted(runs) == ["every-2", "every-4"]
    assert [s for s, _ in history(client, runs["every-4"], "train/loss")] == [4, 8, 12, 16, 20]
    assert [s for s, _ in history(client, runs["every-2"], "train/loss")] == list(range(2, 21, 2))
    for run_id in runs.values():  # evaluation metrics always go through
        assert [s for s, _ in history(client, run_id, "val/loss")] == [10, 20]


def test_points_are_batched_and_all_arrive_by_the_end(mlflow_server, tmp_path: Path):
    spec = _spec(mlflow_server, "exp-batched", flush_secs=3600)
    spec["loop"] = {"max_steps": 400, "log_every": "1 steps", "eval_every": "100 steps"}
    result = run_spec(spec, tmp_path / "run")
    client = MlflowClient(mlflow_server)
    run_id = only_run(client, "exp-batched").info.run_id
    assert history(client, run_id, "train/loss") == logged(result.dir, "train/loss")
    assert len(history(client, run_id, "lr")) == 400


def test_a_non_finite_loss_is_recorded_as_nan(mlflow_server, tmp_path):
    spec = _spec(mlflow_server, "exp-nan")
    spec["backend"] = {"use": "testing", "nan_at_step": 12}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "failed"

    client = MlflowClient(mlflow_server)
    found = only_run(client, "exp-nan")
    points = history(client, found.info.run_id, "train/loss")
    assert [step for step, _ in points] == [5, 10, 15]
    assert [value for _, value in points[:2]] == [value for _, value in logged(result.dir, "train/loss")[:2]]
    assert math.isnan(points[2][1])
