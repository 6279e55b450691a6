"""Bad specs and command lines: exit status 2, one clear line each, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD = """
[run]
name = "r"

[loop]
max_steps = 10

[backend]
use = "testing"
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> str:
    (tmp_path / name).write_text(text)
    return name


def assert_usage_error(result, *fragments: str) -> str:  # type: ignore[no-untyped-def]
    assert result.code == 2, result
    assert "Traceback" not in result.err, result
    assert result.error_lines, result
    text = "\n".join(result.error_lines)
    for fragment in fragments:
        assert fragment in text, result
    return text


def test_missing_spec_file(cli, tmp_path):
    assert_usage_error(cli("run", "nope.toml"), "nope.toml", "does not exist")
    assert not (tmp_path / "runs").exists()


def test_not_toml_names_line_and_column(cli, tmp_path):
    spec = write(tmp_path, GOOD + "\n[loop\n")
    text = assert_usage_error(cli("run", spec), "spec.toml:11:", "not valid TOML")
    assert len(text.splitlines()) == 1


def test_empty_spec(cli, tmp_path):
    assert_usage_error(cli("run", write(tmp_path, "")), "the spec is empty")


def test_wrong_type_names_key_path_and_line(cli, tmp_path):
    spec = write(tmp_path, GOOD.replace("max_steps = 10", 'max_steps = "ten"'))
    assert_usage_error(cli("check", spec), "spec.toml:6: loop.max_steps", "expected an integer", "'ten'")


def test_unknown_key_suggests_the_right_one(cli, tmp_path):
    spec = write(tmp_path, GOOD.replace("max_steps = 10", "max_step = 10"))
    assert_usage_error(cli("check", spec), "loop.max_step", "did you mean 'max_steps'")


def test_unknown_key_in_a_component_lists_valid_keys(cli, tmp_path):
    spec = write(tmp_path, GOOD + "batch_sise = 4\n")
    assert_usage_error(cli("check", spec), "backend.batch_sise", "did you mean 'batch_size'", "valid keys:")


def test_unknown_section(cli, tmp_path):
    spec = write(tmp_path, GOOD + "\n[early_stopping]\npatience = 3\n")
    assert_usage_error(cli("check", spec), "early_stopping", "did you mean [early_stop]")


def test_section_of_an_uninstalled_plugin_says_how_to_install_it(cli, tmp_path):
    spec = write(tmp_path, GOOD + "\n[tune]\nn_trials = 3\n")
    assert_usage_error(cli("check", spec), "tune", "unknown section", "pip install engine-optuna")


def test_unknown_component_lists_installed_and_the_plugin_that_provides_it(cli, tmp_path):
    spec = write(tmp_path, GOOD.replace('use = "testing"', 'use = "xgboost"'))
    result = cli("check", spec, "-p", "no:xgboost")
    assert_usage_error(result, "unknown backend 'xgboost'", "pip install engine-xgboost", "installed:", "testing")


def test_every_problem_is_reported_in_one_pass(cli, tmp_path):
    spec = write(tmp_path, """
[loop]
max_steps = -1
eval_every = "0 steps"
log_every = "soon"

[backend]
use = "testing"
lr = "fast"
""")
    text = assert_usage_error(cli("check", spec), "loop.max_steps", "loop.eval_every", "loop.log_every", "backend.lr")
    assert len(text.splitlines()) == 4


@pytest.mark.parametrize("override", ["loop.max_steps=0", "loop.max_time=-5", 'loop.checkpoint_every="-2 epochs"'])
def test_zero_or_negative_limits_and_cadences(cli, tmp_path, override):
    assert_usage_error(cli("check", write(tmp_path, GOOD), "--set", override), f"--set {override}")


def test_missing_limit(cli, tmp_path):
    spec = write(tmp_path, GOOD.replace("max_steps = 10", ""))
    assert_usage_error(cli("check", spec), "no limit")


def test_set_on_a_path_that_does_not_exist(cli, tmp_path):
    assert_usage_error(cli("check", write(tmp_path, GOOD), "--set", "loop.max_stepz=3"),
                       "--set loop.max_stepz=3", "did you mean 'max_steps'")


def test_set_with_an_unparsable_value(cli, tmp_path):
    assert_usage_error(cli("check", write(tmp_path, GOOD), "--set", "loop.max_steps=[1,"),
                       "--set loop.max_steps=[1,", "cannot read")


def test_set_overrides_any_value_and_check_prints_the_effective_spec(cli, tmp_path):
    result = cli("check", write(tmp_path, GOOD), "--set", "loop.max_steps=77", "--set", "backend.lr=0.5")
    assert result.code == 0, result
    assert "max_steps = 77" in result.out
    assert "lr = 0.5" in result.out


def test_bad_command_line_is_one_line(cli, tmp_path):
    result = cli("run")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_existing_run_directory_without_resume(cli, tmp_path):
    spec = write(tmp_path, GOOD)
    assert cli("run", spec, "--quiet").code == 0
    before = sorted(p.name for p in (tmp_path / "runs" / "r").iterdir())
    assert_usage_error(cli("run", spec, "--quiet", "--run-dir", "runs/r"), "already exists", "--resume")
    assert sorted(p.name for p in (tmp_path / "runs" / "r").iterdir()) == before


def test_resume_without_a_checkpoint_starts_the_run(cli, tmp_path):
    """``--resume`` is the one command for every attempt: with nothing to resume it starts."""
    result = cli("run", write(tmp_path, GOOD), "--resume", "--quiet")
    assert result.code == 0, result
    assert "no committed checkpoint" in result.err and "starting the run from step 0" in result.err
    assert (tmp_path / "runs" / "r" / "summary.json").exists()
