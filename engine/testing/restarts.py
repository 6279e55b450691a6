"""For tests of runs that are checkpointed, killed and run again: a small checkpointed spec, a
local run plugin that kills its own process at a chosen step (as a preempted or crashed job
dies), and the summary a run directory ends with.

    from engine.testing.restarts import read_summary, write_kill_plugin

    def test_resume_after_a_kill(cli, tmp_path):
        write_kill_plugin(tmp_path)  # killer.py; the spec lists plugins = ["killer"]
        assert cli("run", "spec.toml", "--quiet", env={"KILL_AT": "5"}).code == -9
        assert cli("run", "spec.toml", "--quiet", "--resume").code == 0
        assert read_summary(tmp_path / "runs/r")["status"] == "completed"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["KILL_AT_PLUGIN", "checkpointed_spec", "read_summary", "write_kill_plugin"]

#: Source of a run plugin that sends its own process ``$KILL_SIGNAL`` (a name; SIGKILL when
#: unset, SIGTERM for a preemption) at the end of step ``$KILL_AT`` (unset or 0: never).
KILL_AT_PLUGIN = """
import os, signal
from engine import hookimpl

@hookimpl
def on_step(run):
    if run.step == int(os.environ.get("KILL_AT", "0") or 0):
        os.kill(os.getpid(), getattr(signal, os.environ.get("KILL_SIGNAL") or "SIGKILL"))
"""

_FOUR_STEPS = """
[loop]
max_steps = 4
eval_every = "never"
checkpoint_every = "2 steps"

[backend]
use = "testing"

[checkpoint]
"""


def checkpointed_spec(storage: str = "") -> str:
    """TOML of a four-step run of the testing backend that checkpoints at steps 2 and 4 and keeps
    the last only, in ``storage`` (a URL; empty: the run directory). Its ``[checkpoint]`` table
    comes last, so a test may add lines to it."""
    return _FOUR_STEPS + (f'storage = "{storage}"\n' if storage else "") + "keep_last = 1\n"


def write_kill_plugin(directory: Path, module: str = "killer") -> str:
    """``directory/<module>.py`` holding :data:`KILL_AT_PLUGIN`; returns the name for ``run.plugins``."""
    (directory / f"{module}.py").write_text(KILL_AT_PLUGIN)
    return module


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's ``summary.json``."""
    return dict(json.loads((run_dir / "summary.json").read_text()))
