"""What a plugin author can observe of ``Run``: a read-only view, statuses that are ``RunStatus``
members equal to their strings, and an unchanged summary.json."""

from __future__ import annotations

import json
import os
import signal

import pytest

from engine import RunStatus, hookimpl
from engine.testing import run_spec

SPEC = """
[run]
name = "r"
plugins = ["meddler"]

[loop]
max_steps = 6
log_every = "2 steps"

[backend]
use = "testing"
"""

#: A local plugin that assigns ``run.<ASSIGN>`` at step 3.
MEDDLER = """
import os

from engine import hookimpl


@hookimpl
def on_step(run):
    if run.step == 3:
        setattr(run, os.environ["ASSIGN"], 100)
"""


@pytest.mark.parametrize("attribute", ["status", "step", "stop_reason", "metrics", "rank", "sync_every"])
def test_a_plugin_that_assigns_to_the_run_fails_the_run_as_its_own_error(cli, tmp_path, attribute):
    (tmp_path / "meddler.py").write_text(MEDDLER)
    (tmp_path / "spec.toml").write_text(SPEC)
    result = cli("run", "spec.toml", "--quiet", env={"ASSIGN": attribute})
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert result.error_lines and "meddler" in result.error_lines[0] and "AttributeError" in result.error_lines[0]
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert (summary["status"], summary["steps"]) == ("failed", 3)
    assert "AttributeError" in (tmp_path / "runs/r/error.log").read_text()


class Observer:
    """Records what a plugin sees: the on_run_end status, and the view at on_run_start."""

    def __init__(self, *, stop_at: int = 0, raise_at: int = 0, signal_at: int = 0):
        self.stop_at, self.raise_at, self.signal_at = stop_at, raise_at, signal_at
        self.ends: list[object] = []
        self.seen: dict[str, object] = {}

    @hookimpl
    def on_run_start(self, run):  # type: ignore[no-untyped-def]
        self.seen = {"rank": run.rank, "world_size": run.world_size, "local_rank": run.local_rank,
                     "main": run.is_main_process, "agree": run.processes.agree, "resuming": run.resuming,
                     "fold": run.fold, "status": run.status, "should_stop": run.should_stop, "best": run.best}

    @hookimpl
    def on_step(self, run):  # type: ignore[no-untyped-def]
        if run.step == self.stop_at:
            run.stop("enough")
            assert run.status is RunStatus.STOPPED and run.stop_reason == "enough" and run.should_stop
        if run.step == self.raise_at:
            raise RuntimeError("boom")
        if run.step == self.signal_at:
            os.kill(os.getpid(), signal.SIGTERM)

    @hookimpl
    def on_run_end(self, run, status):  # type: ignore[no-untyped-def]
        self.ends.append(status)
        assert run.status is status


SMALL = {"run": {"name": "r"}, "loop": {"max_steps": 6, "log_every": "2 steps"}, "backend": {"use": "testing"}}


@pytest.mark.parametrize(("observer", "expected"), [
    (Observer(), "completed"),
    (Observer(stop_at=2), "stopped"),
    (Observer(raise_at=2), "failed"),
    (Observer(signal_at=2), "interrupted"),
])
def test_on_run_end_sees_run_status_members_equal_to_their_strings(tmp_path, observer, expected):
    result = run_spec(SMALL, tmp_path / "r", plugins=[observer])
    [status] = observer.ends
    assert isinstance(status, RunStatus) and status == expected and str(status) == expected
    assert result.status == expected and result.status is RunStatus(expected)
    assert json.loads((tmp_path / "r/summary.json").read_text())["status"] == expected


def test_a_single_process_run_shows_its_place_and_no_collectives(tmp_path):
    observer = Observer()
    run_spec(SMALL, tmp_path / "r", plugins=[observer])
    assert observer.seen == {"rank": 0, "world_size": 1, "local_rank": 0, "main": True, "agree": None,
                             "resuming": False, "fold": None, "status": "running", "should_stop": False,
                             "best": {}}


def test_summary_json_keeps_its_keys_and_plain_values(tmp_path):
    run_spec(SMALL, tmp_path / "r")
    text = (tmp_path / "r/summary.json").read_text()
    summary = json.loads(text)
    assert list(summary) == ["name", "status", "reason", "exit_code", "steps", "epochs", "seconds", "metrics",
                             "best", "model", "fold"]
    assert '"status": "completed"' in text
    assert (summary["status"], summary["reason"], summary["exit_code"], summary["steps"], summary["fold"]) == (
        "completed", "reached max_steps at step 6", 0, 6, None)
