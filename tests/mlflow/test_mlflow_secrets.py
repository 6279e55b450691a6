"""Secrets in the spec never reach MLflow (params, tags, artifacts, the store) nor the output,
also when the tracking server is unreachable and MLflow's error quotes its URI."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient
from mltools import free_port, only_run

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin

SPEC = """
[run]
name = "mlflow-secrets"
plugins = ["leaky"]

[loop]
max_steps = 6
eval_every = "3 steps"

[backend]
use = "testing"

[[tracker]]
use = "mlflow"
{tracking_uri}
tags = {{ team = "vision", api_token = "{tag_token}", Authorization = "{tag_authorization}" }}

"""
#: MLflow's HTTP client retries for minutes by default; a user would set the same variables.
FAST_FAIL = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def _plant(tmp_path: Path, tracking_uri: str = "") -> PlantedSecrets:
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    uri = f'tracking_uri = "{tracking_uri}"' if tracking_uri else ""
    text = SPEC.format(tracking_uri=uri, tag_token=secrets["tags.api_token"],
                       tag_authorization=secrets["tags.Authorization"])
    (tmp_path / "spec.toml").write_text(text + secrets.leaky_tracker())
    return secrets


def test_params_tags_and_artifacts_in_the_local_store_hold_no_secret(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # to read the store the run made
    secrets = _plant(tmp_path)
    result = cli("run", "spec.toml", "-q", *secrets.overrides(tracker=1))
    assert result.code == 0, result
    run_dir = tmp_path / "runs" / "mlflow-secrets"
    found = only_run(MlflowClient((run_dir / "mlruns").resolve().as_uri()), "mlflow-secrets")
    assert found.data.tags["team"] == "vision" and found.data.tags["api_token"] == "***", found.data.tags
    assert found.data.params["tracker.1.pwd"] == "***", found.data.params
    assert found.data.params["tracker.1.password_number"] == "***", found.data.params
    assert secrets.leaks(files=[run_dir], texts=[result.out, result.err]) == []


def test_a_server_with_credentials_in_its_uri_stores_no_secret(cli, tmp_path, mlflow_server, mlflow_server_root):
    secrets = PlantedSecrets()
    password = secrets.url_password("tracking password", separators="@:")  # a "/" makes no valid URI
    planted = _plant(tmp_path, mlflow_server.replace("http://", f"http://user:{password}@"))
    planted.values.update(secrets.values)
    planted.markers.update(secrets.markers)
    result = cli("run", "spec.toml", "-q", *planted.overrides(tracker=1))
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1 and "tracker[1] 'leaky' failed" in warnings[0], result  # MLflow worked
    found = only_run(MlflowClient(mlflow_server), "mlflow-secrets")
    assert found.data.params["tracker.0.tracking_uri"] == mlflow_server.replace("http://", "http://***@")
    assert planted.leaks(files=[tmp_path / "runs", mlflow_server_root],
                         texts=[result.out, result.err]) == []


def test_an_unreachable_server_warns_without_its_password(cli, tmp_path):
    secrets = PlantedSecrets()
    password = secrets.url_password("tracking password")
    planted = _plant(tmp_path, f"http://user:{password}@127.0.0.1:{free_port()}/")
    planted.values.update(secrets.values)
    planted.markers.update(secrets.markers)
    result = cli("run", "spec.toml", "-q", env=FAST_FAIL)
    assert result.code == 0, result
    assert "tracker[0] 'mlflow' failed" in result.err and "***" in result.err, result
    assert planted.leaks(files=[tmp_path / "runs"], texts=[result.out, result.err]) == []
    strict = cli("run", "spec.toml", "-q", "--run-dir", "strict", "--set", "tracker[0].strict=true", env=FAST_FAIL)
    assert strict.code == 1, strict
    assert planted.leaks(files=[tmp_path / "strict"], texts=[strict.out, strict.err]) == []
