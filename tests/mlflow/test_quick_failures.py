"""A tracking store that cannot be used is found at the start, in seconds, and said loudly:
one warning, a ``tracking: disabled (reason)`` line in the status table and in summary.json,
training goes on; ``strict = true`` fails the run before its first step. No MLflow
variables are set here: the bounds are the tracker's own defaults."""

from __future__ import annotations

import json
import time
from pathlib import Path

from mlflow.tracking import MlflowClient
from mltools import free_port, only_run

SPEC = """
[loop]
max_steps = 20

[backend]
use = "testing"

[[tracker]]
use = "mlflow"
tracking_uri = "{uri}"
{extra}
"""


def _summary(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((tmp_path / "runs" / "spec" / "summary.json").read_text())  # type: ignore[no-any-return]


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("engine: warning:")]


def test_unreachable_server_costs_seconds_and_is_said_in_the_summary(cli, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=uri, extra=""))
    started = time.monotonic()
    result = cli("run", "spec.toml", "--plain", timeout=120)
    elapsed = time.monotonic() - started
    assert result.code == 0, result
    assert elapsed < 30, f"{elapsed:.0f} s"  # MLflow's own defaults retry for minutes

    warnings = _warnings(result.err)
    assert len(warnings) == 1, result
    assert "tracker[0] 'mlflow' failed in on_run_start" in warnings[0] and uri in warnings[0], result
    assert "Connection refused" in warnings[0], result
    table = [line.split(None, 1) for line in result.err.splitlines() if line.strip().startswith("tracking ")]
    assert len(table) == 1 and table[0][1].startswith("disabled (tracker[0] 'mlflow' failed in on_run_start"), result

    summary = _summary(tmp_path)
    assert summary["status"] == "completed" and summary["steps"] == 20
    assert summary["tracking"]["tracker[0] 'mlflow'"].startswith("disabled (") and uri in \
        summary["tracking"]["tracker[0] 'mlflow'"]


def test_strict_unreachable_server_fails_before_training(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=f"http://127.0.0.1:{free_port()}", extra="strict = true"))
    started = time.monotonic()
    result = cli("run", "spec.toml", "-q", timeout=120)
    assert time.monotonic() - started < 30
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "not usable" in result.error_lines[0], result
    summary = _summary(tmp_path)
    assert summary["status"] == "failed" and summary["steps"] == 0


def test_a_healthy_run_has_no_tracking_line(cli, tmp_path, mlflow_server):
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=mlflow_server, extra='experiment = "healthy"'))
    result = cli("run", "spec.toml", "--plain")
    assert result.code == 0 and not _warnings(result.err), result
    assert "tracking" not in _summary(tmp_path)
    assert not [line for line in result.err.splitlines() if line.strip().startswith("tracking ")], result


def test_an_explicit_file_uri_is_a_store_mlflow_accepts(cli, tmp_path):
    store = (tmp_path / "store").resolve().as_uri()
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=store, extra='experiment = "local"'))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 0 and not _warnings(result.err), result
    assert "tracking" not in _summary(tmp_path)
    import os

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # to read it here (restored by the conftest)
    assert only_run(MlflowClient(store), "local").info.status == "FINISHED"


def test_a_store_mlflow_refuses_is_said_at_the_start(cli, tmp_path):
    store = (tmp_path / "store").resolve().as_uri()
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=store, extra=""))
    result = cli("run", "spec.toml", "-q", env={"MLFLOW_ALLOW_FILE_STORE": "false"})  # the user's own "no"
    assert result.code == 0, result
    warnings = _warnings(result.err)
    assert len(warnings) == 1 and "failed in on_run_start" in warnings[0] and "not usable" in warnings[0], result
    assert _summary(tmp_path)["tracking"]["tracker[0] 'mlflow'"].startswith("disabled (")
