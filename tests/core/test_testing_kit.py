"""engine.testing's kill-and-resume kit and its command line runner, as a plugin author uses them."""

from __future__ import annotations

import os

import pytest

from engine.testing import cli, kill_and_resume, resume_after_kill, run_spec
from engine.testing.restarts import checkpointed_spec

FOUR_STEPS = checkpointed_spec()  # checkpoints at steps 2 and 4


def test_a_run_killed_and_resumed_ends_as_one_that_never_stopped(tmp_path):
    runs = kill_and_resume(FOUR_STEPS, tmp_path, kill_at=3)
    assert runs.killed.code == -9
    assert runs.resumed.status == "completed" and runs.resumed.resumed_from == 2
    assert runs.uninterrupted.resumed_from is None
    assert runs.resumed.summary["metrics"] == runs.uninterrupted.summary["metrics"]
    assert (runs.resumed.dir / "model/final.json").read_bytes() == \
        (runs.uninterrupted.dir / "model/final.json").read_bytes()
    assert runs.resumed.dir == (tmp_path / "interrupted").resolve()


def test_a_preempted_run_resumes_from_the_step_it_stopped_at(tmp_path):
    resumed = resume_after_kill(FOUR_STEPS, tmp_path / "run", kill_at=3, signal="SIGTERM",
                                overrides=["loop.max_steps=6"])
    assert resumed.killed.code == 143
    assert resumed.resumed.resumed_from == 3 and resumed.resumed.summary["steps"] == 6


def test_a_run_that_ends_before_its_kill_step_fails_the_test(tmp_path):
    with pytest.raises(AssertionError, match="was not killed by SIGKILL at step 9"):
        resume_after_kill(FOUR_STEPS, tmp_path / "run", kill_at=9)


def test_run_spec_with_resume_starts_a_run_that_has_no_checkpoint(tmp_path):
    result = run_spec(FOUR_STEPS, tmp_path / "run", resume=True)
    assert result.status == "completed" and result.resumed_from is None


@pytest.mark.parametrize("in_process", [False, True], ids=["subprocess", "in-process"])
def test_cli_reports_a_bad_spec_as_a_user_sees_it(tmp_path, in_process):
    (tmp_path / "spec.toml").write_text('[loop]\nmax_steps = 0\n[backend]\nuse = "testing"\n')
    before = os.getcwd()
    result = cli("check", "spec.toml", cwd=tmp_path, in_process=in_process)
    assert result.code == 2 and "Traceback" not in result.err, result
    assert len(result.error_lines) == 1 and "loop.max_steps" in result.error_lines[0]
    assert os.getcwd() == before


def test_cli_in_process_returns_the_status_of_a_usage_error(tmp_path):
    result = cli("run", "spec.toml", "--no-such-flag", cwd=tmp_path, in_process=True)
    assert result.code == 2 and "--no-such-flag" in result.err


def test_cli_in_process_captures_what_native_code_writes_to_the_file_descriptors(tmp_path):
    (tmp_path / "native.py").write_text("import os\n\ndef on_run_start(run):\n    os.write(2, b'from C\\n')\n")
    (tmp_path / "spec.toml").write_text(FOUR_STEPS.replace("[backend]", '[run]\nplugins = ["native"]\n[backend]'))
    result = cli("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path, in_process=True)
    assert result.code == 0 and result.err == "from C\n", result
