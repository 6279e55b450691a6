"""The core's failure policy around the tracker: warn once and keep training, or fail when strict."""

from __future__ import annotations

import json
import os

import wandb.sdk.wandb_run as wandb_run
from wbtools import wandb_services

from engine.testing import run_spec

SPEC = """
[loop]
max_steps = 20

[backend]
use = "testing"

[[tracker]]
use = "wandb"
dir = "blocked/wb"
{strict}
"""


def test_an_unwritable_dir_warns_once_and_training_completes(cli, tmp_path):
    (tmp_path / "blocked").write_text("a file where W&B's folder should be")
    (tmp_path / "spec.toml").write_text(SPEC.format(strict=""))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1, result
    assert "tracker[0] 'wandb' failed in on_run_start" in warnings[0]
    assert (tmp_path / "runs" / "spec" / "model" / "final.json").exists()
    assert json.loads((tmp_path / "runs" / "spec" / "summary.json").read_text())["status"] == "completed"


def test_strict_fails_the_run(cli, tmp_path):
    (tmp_path / "blocked").write_text("a file where W&B's folder should be")
    (tmp_path / "spec.toml").write_text(SPEC.format(strict="strict = true"))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "wandb" in result.error_lines[0], result
    assert json.loads((tmp_path / "runs" / "spec" / "summary.json").read_text())["status"] == "failed"


def test_a_failure_during_the_run_ends_the_wandb_run(tmp_path, monkeypatch, capsys):
    """W&B failing mid-run (here: its run object refuses to log) leaves no W&B service running."""
    monkeypatch.chdir(tmp_path)

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("W&B is unreachable")

    monkeypatch.setattr(wandb_run.Run, "log", refuse)
    before = set(wandb_services())
    result = run_spec(SPEC.format(strict="").replace('dir = "blocked/wb"', ""), tmp_path / "run")
    assert result.status == "completed"
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1 and "'wandb' failed in on_log: ConnectionError" in warnings[0], warnings
    mine = [pid for pid, parent in wandb_services().items() if parent == os.getpid() and pid not in before]
    assert mine == [], mine


def test_a_bad_option_is_one_clear_line_and_exit_2(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(strict='mode = "sometimes"'))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1, result
    assert "tracker[0].mode" in result.err and "offline" in result.err, result
    assert not (tmp_path / "runs").exists()


def test_with_credentials_auto_is_online_and_an_unreachable_server_warns_once(cli, tmp_path):
    """``mode = "auto"`` with a key goes online; a server that refuses connections costs one
    warning (after W&B's ``init_timeout``), and the run completes without W&B."""
    (tmp_path / "spec.toml").write_text(SPEC.format(strict="").replace('dir = "blocked/wb"', ""))
    env = {"WANDB_API_KEY": "a" * 40, "WANDB_BASE_URL": "http://127.0.0.1:9", "WANDB_INIT_TIMEOUT": "3"}
    result = cli("run", "spec.toml", "-q", env=env)
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1 and "'wandb' failed in on_run_start" in warnings[0], result
    assert "127.0.0.1:9" in result.err and "a" * 40 not in result.err, result
    assert json.loads((tmp_path / "runs" / "spec" / "summary.json").read_text())["status"] == "completed"
    assert not list((tmp_path / "runs" / "spec").glob("wandb/offline-run-*"))
