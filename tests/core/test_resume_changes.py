"""Resuming with a changed spec names the changes: structural ones are refused, those that
alter the data order or numerics need ``--allow-changes``, others are listed; a component
added since the checkpoint starts fresh, and is never called damage."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.testing.restarts import KILL_AT_PLUGIN, read_summary

SPEC = """
[run]
name = "r"
seed = 0
plugins = ["helpers"]

[loop]
max_steps = 12
eval_every = "4 steps"
checkpoint_every = "3 steps"

[backend]
use = "testing"
batch_size = 8

[checkpoint]
storage_options = {{ fsync = false }}
{extra}
"""
#: A killer (SIGKILL at step $KILL_AT) and a stateful tracker whose option is a secret.
HELPERS = KILL_AT_PLUGIN + """
import attrs

@attrs.define
class CounterOptions:
    api_key: str = ""

class Counter:
    def __init__(self, options):
        self.steps = 0
    @hookimpl
    def on_step(self, run):
        self.steps += 1
    def state_dict(self):
        return {"steps": self.steps}
    def load_state_dict(self, state):
        self.steps = state["steps"]

@hookimpl
def engine_register_components(registry):
    from engine._core.builtin.testing_backend import TestingBackendOptions

    registry.add("tracker", "counter", Counter, options=CounterOptions)
    registry.add("backend", "other", "engine.testing.backend:TestingBackend", options=TestingBackendOptions)
"""


@pytest.fixture
def killed(cli, tmp_path):  # type: ignore[no-untyped-def]
    """``killed(extra)``: a run of SPEC (plus ``extra`` lines) killed at step 7 (checkpoint at 6)."""
    (tmp_path / "helpers.py").write_text(HELPERS)

    def run(extra: str = "") -> Path:
        (tmp_path / "spec.toml").write_text(SPEC.format(extra=extra))
        result = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "7"})
        assert result.code == -9, result
        return tmp_path / "runs/r"
    return run


def change_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "resuming with changes" in line]


@pytest.mark.parametrize(("setting", "shown"), [("run.seed=1", "run.seed 0 -> 1"),
                                                 ("backend.batch_size=4", "backend.batch_size 8 -> 4")])
def test_a_change_to_the_numerics_needs_allow_changes(cli, killed, setting, shown):
    run_dir = killed()
    refused = cli("run", "spec.toml", "--resume", "--quiet", "--set", setting)
    assert refused.code == 2 and len(refused.error_lines) == 1, refused
    assert shown in refused.error_lines[0] and "--allow-changes" in refused.error_lines[0], refused
    assert "Traceback" not in refused.err and not (run_dir / "summary.json").exists()

    allowed = cli("run", "spec.toml", "--resume", "--allow-changes", "--quiet", "--set", setting)
    assert allowed.code == 0, allowed
    assert len(change_lines(allowed.err)) == 1 and shown in change_lines(allowed.err)[0], allowed
    key, value = setting.split("=")
    section, name = key.split(".")
    assert tomllib.loads((run_dir / "spec.toml").read_text())[section][name] == int(value)
    assert read_summary(run_dir)["steps"] == 12


def test_a_structural_change_is_refused_even_with_allow_changes(cli, killed):
    run_dir = killed()
    before = (run_dir / "spec.toml").read_text()
    for args in (["--resume"], ["--resume", "--allow-changes"]):
        result = cli("run", "spec.toml", "--quiet", "--set", "backend.dim=5", *args)
        assert result.code == 2 and len(result.error_lines) == 1, result
        assert "cannot resume: backend.dim 4 -> 5" in result.error_lines[0], result
    assert (run_dir / "spec.toml").read_text() == before and not (run_dir / "summary.json").exists()


def test_another_backend_is_refused_naming_backend_use(cli, killed):
    killed()
    result = cli("run", "spec.toml", "--resume", "--allow-changes", "--quiet", "--set", 'backend.use="other"')
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "cannot resume: backend.use 'testing' -> 'other'" in result.error_lines[0], result
    assert "Traceback" not in result.err


def test_other_changes_are_listed_in_one_line_and_resume(cli, killed):
    run_dir = killed()
    result = cli("run", "spec.toml", "--resume", "--quiet", "--set", "loop.max_steps=15",
                 "--set", 'loop.eval_every="5 steps"')
    assert result.code == 0, result
    assert change_lines(result.err) == [
        "engine: resuming with changes: loop.eval_every '4 steps' -> '5 steps', loop.max_steps 12 -> 15"], result
    assert read_summary(run_dir)["steps"] == 15


def test_components_added_before_resume_start_fresh_and_are_not_damage(cli, killed, tmp_path):
    run_dir = killed()
    (tmp_path / "spec.toml").write_text(SPEC.format(
        extra='[early_stop]\nmonitor = "val/loss"\n[[tracker]]\nuse = "counter"\n'))
    result = cli("run", "spec.toml", "--resume", "--quiet")
    assert result.code == 0, result
    assert "damaged" not in result.err, result
    fresh = [line for line in result.err.splitlines() if "starting it fresh" in line]
    assert len(fresh) == 1 and "run:early-stop" in fresh[0] and "tracker[0]" in fresh[0], result
    assert "early_stop = '[early_stop]' (added)" in result.err, result
    assert "tracker[0] = 'counter' (added)" in result.err, result
    assert read_summary(run_dir)["steps"] == 12


def test_a_redacted_secret_is_not_a_change(cli, killed):
    run_dir = killed('[[tracker]]\nuse = "counter"\napi_key = "s3cret-value"\n')
    assert "s3cret-value" not in (run_dir / "spec.toml").read_text()
    result = cli("run", "spec.toml", "--resume", "--quiet")
    assert result.code == 0, result
    assert change_lines(result.err) == [] and "starting it fresh" not in result.err, result
