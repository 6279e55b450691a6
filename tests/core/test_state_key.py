"""Checkpoint participants are stored under a stable ``state_key`` (default: their registration
name, so checkpoints written before it existed still load); a missing state starts fresh with a
notice, except the backend's or the loop's; two participants with one key are refused at start."""

from __future__ import annotations

import json
from pathlib import Path

SPEC = """
[run]
name = "r"
plugins = ["counting"]

[loop]
max_steps = 4
checkpoint_every = "2 steps"

[backend]
use = "{backend}"

[checkpoint]
keep_last = 5
"""
#: A per-run counter registered under $COUNTER_NAME (default "counter"), stored under
#: $COUNTER_KEY when set; $SECOND_KEY adds a second counter with that key; backend "keyed" is
#: the testing backend with $BACKEND_KEY as its state_key. The count is written at the end.
PLUGIN = """
import os
from pathlib import Path

from engine import hookimpl
from engine.testing.backend import TestingBackend


class Counter:
    def __init__(self, key):
        self.steps = 0
        if key:
            self.state_key = key

    @hookimpl
    def on_step(self, run):
        self.steps += 1

    @hookimpl
    def on_run_end(self, run, status):
        Path("count.txt").write_text(str(self.steps))

    def state_dict(self):
        return {"steps": self.steps}

    def load_state_dict(self, state):
        self.steps = state["steps"]


class KeyedBackend(TestingBackend):
    state_key = os.environ.get("BACKEND_KEY") or None


@hookimpl
def engine_run_plugins(run):
    pairs = [(os.environ.get("COUNTER_NAME", "counter"), Counter(os.environ.get("COUNTER_KEY")))]
    if os.environ.get("SECOND_KEY"):
        pairs.append(("second-counter", Counter(os.environ["SECOND_KEY"])))
    return pairs


@hookimpl
def engine_register_components(registry):
    from engine._core.builtin.testing_backend import TestingBackendOptions

    registry.add("backend", "keyed", KeyedBackend, options=TestingBackendOptions)
"""


def setup(tmp_path: Path, backend: str = "testing") -> Path:
    (tmp_path / "counting.py").write_text(PLUGIN)
    (tmp_path / "spec.toml").write_text(SPEC.format(backend=backend))
    return tmp_path / "runs" / "r"


def checkpoint_files(run_dir: Path) -> set[str]:
    newest = sorted((run_dir / "checkpoints").glob("step-*"))[-1]
    return {path.name for path in newest.iterdir()}


def test_the_default_key_is_the_registration_name_so_older_checkpoints_resume(cli, tmp_path):
    run_dir = setup(tmp_path)
    assert cli("run", "spec.toml", "-q").code == 0
    # the layout every checkpoint had before state_key: state files named after the registration name
    assert {"counter.json", "backend.json", "loop.json"} <= checkpoint_files(run_dir)
    result = cli("run", "spec.toml", "--resume", "-q", "--set", "loop.max_steps=6")
    assert result.code == 0, result
    assert (tmp_path / "count.txt").read_text() == "6" and "starting it fresh" not in result.err, result


def test_a_state_key_keeps_the_state_when_the_registration_name_changes(cli, tmp_path):
    run_dir = setup(tmp_path)
    first = cli("run", "spec.toml", "-q", env={"COUNTER_NAME": "counter-a", "COUNTER_KEY": "steps"})
    assert first.code == 0, first
    assert "steps.json" in checkpoint_files(run_dir) and "counter-a.json" not in checkpoint_files(run_dir)
    result = cli("run", "spec.toml", "--resume", "-q", "--set", "loop.max_steps=6",
                 env={"COUNTER_NAME": "counter-b", "COUNTER_KEY": "steps"})
    assert result.code == 0, result
    assert (tmp_path / "count.txt").read_text() == "6", result
    assert "starting it fresh" not in result.err, result


def test_a_participant_with_no_saved_state_starts_fresh_with_a_notice_naming_it(cli, tmp_path):
    setup(tmp_path)
    assert cli("run", "spec.toml", "-q").code == 0
    result = cli("run", "spec.toml", "--resume", "-q", "--set", "loop.max_steps=6", env={"COUNTER_KEY": "steps"})
    assert result.code == 0, result
    fresh = [line for line in result.err.splitlines() if "starting it fresh" in line]
    assert len(fresh) == 1 and "counter (state_key 'steps')" in fresh[0], result
    assert (tmp_path / "count.txt").read_text() == "2", result


def test_no_saved_state_for_the_backend_is_one_error_and_nothing_resumes(cli, tmp_path):
    run_dir = setup(tmp_path, backend="keyed")
    assert cli("run", "spec.toml", "-q").code == 0
    before = checkpoint_files(run_dir)
    result = cli("run", "spec.toml", "--resume", "-q", "--set", "loop.max_steps=6", env={"BACKEND_KEY": "model"})
    assert result.code == 2 and len(result.error_lines) == 1, result
    line = result.error_lines[0]
    assert "--resume: checkpoint" in line and "holds no state for backend (state_key 'model')" in line, result
    assert "Traceback" not in result.err
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 2, summary
    assert checkpoint_files(run_dir) == before and len(list((run_dir / "checkpoints").iterdir())) == 2


def test_two_participants_with_one_state_key_are_refused_before_the_first_step(cli, tmp_path):
    run_dir = setup(tmp_path)
    result = cli("run", "spec.toml", "-q", env={"COUNTER_KEY": "steps", "SECOND_KEY": "steps"})
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "counter and second-counter both keep their checkpoint state under state_key 'steps'" \
        in result.error_lines[0], result
    assert (tmp_path / "count.txt").read_text() == "0"  # no step ran
    assert not list(run_dir.glob("checkpoints/step-*"))
