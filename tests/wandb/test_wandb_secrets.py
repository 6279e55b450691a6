"""Secrets in the spec or on the command line reach no W&B file (config, metadata, logs,
W&B's per-user folders) nor the output; an offline run calls no server."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from wbtools import offline_runs

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin

SPEC = """
[run]
name = "wandb-secrets"
plugins = ["leaky"]

[loop]
max_steps = 6
eval_every = "3 steps"

[backend]
use = "testing"

[[tracker]]
use = "wandb"
{mode}

"""


def test_config_metadata_and_logs_hold_no_secret(cli, tmp_path):
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.format(mode="") + secrets.leaky_tracker())
    result = cli("run", "spec.toml", *secrets.overrides(tracker=1))
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1 and "tracker[1] 'leaky' failed" in warnings[0], result  # W&B worked
    run_dir = tmp_path / "runs" / "wandb-secrets"
    [found] = offline_runs(run_dir / "wandb")
    leaky = found.config["tracker"][1]
    assert leaky["pwd"] == "***" and leaky["password_number"] == "***" and leaky["headers"]["bearer"] == "***"
    [command] = [list(r.environment.args) for r in found.records
                 if r.WhichOneof("record_type") == "environment" and r.environment.args]
    assert "run" in command and any("***" in arg for arg in command), command  # the --set values
    assert secrets.leaks(files=[tmp_path / "runs", tmp_path / "wandb-home"], texts=[result.out, result.err]) == []


class _Trap:
    """A TCP listener on loopback that counts the connections it is offered."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.server.close()


def test_an_offline_run_calls_no_server(cli, tmp_path: Path):
    """W&B's server and every proxy point at a trap; W&B's usage telemetry would call it."""
    trap = _Trap()
    url = f"http://127.0.0.1:{trap.port}"
    env = {"WANDB_BASE_URL": url, "HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
           "NO_PROXY": "", "no_proxy": ""}
    try:
        for mode in ('mode = "offline"', ""):  # said, or chosen for want of credentials
            (tmp_path / "spec.toml").write_text(SPEC.format(mode=mode).replace('plugins = ["leaky"]', ""))
            result = cli("run", "spec.toml", "-q", env=env)
            assert result.code == 0 and "warning" not in result.err, result
    finally:
        trap.close()
    assert len(offline_runs(tmp_path / "runs")) == 2
    assert trap.connections == 0
