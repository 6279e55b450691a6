"""The core's failure policy around the tracker, and bad options rejected before training."""

from __future__ import annotations

import json

from mltools import free_port

SPEC = """
[loop]
max_steps = 20

[backend]
use = "testing"

[[tracker]]
use = "mlflow"
tracking_uri = "http://127.0.0.1:{port}"
{extra}
"""
#: MLflow's HTTP client retries for minutes by default; a user would set the same variables.
FAST_FAIL = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def _summary(tmp_path):  # type: ignore[no-untyped-def]
    return json.loads((tmp_path / "runs" / "spec" / "summary.json").read_text())


def test_unreachable_server_warns_once_and_training_completes(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(port=free_port(), extra=""))
    result = cli("run", "spec.toml", "-q", env=FAST_FAIL)
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1, result
    assert "tracker[0] 'mlflow' failed" in warnings[0]
    assert _summary(tmp_path)["status"] == "completed"
    assert (tmp_path / "runs" / "spec" / "model" / "final.json").exists()


def test_strict_unreachable_server_fails_the_run(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(port=free_port(), extra="strict = true"))
    result = cli("run", "spec.toml", "-q", env=FAST_FAIL)
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "mlflow" in result.error_lines[0], result
    assert _summary(tmp_path)["status"] == "failed"


def test_bad_option_is_one_clear_line_and_exit_2(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(port=free_port(), extra="flush_secs = -1"))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1, result
    assert "tracker[0].flush_secs" in result.err and "> 0" in result.err, result
    assert not (tmp_path / "runs").exists()


def test_unknown_option_names_the_valid_ones(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(port=free_port(), extra='experiment_name = "x"'))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1, result
    assert "experiment_name" in result.err and "experiment" in result.err.replace("experiment_name", ""), result
