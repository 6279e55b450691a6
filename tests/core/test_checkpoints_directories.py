"""``engine checkpoints`` takes a cross-validation's folder (each fold) and a study's (each
trial), as it takes one run's."""

from __future__ import annotations

SPEC = """
[run]
name = "{name}"

[loop]
max_steps = 6
checkpoint_every = "3 steps"

[backend]
use = "testing"
{cv}
"""


def _write(tmp_path, name, cv=""):
    (tmp_path / f"{name}.toml").write_text(SPEC.format(name=name, cv=cv))
    return f"{name}.toml"


def _headers(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.endswith(":")]


def test_a_cross_validation_lists_each_fold_s_checkpoints(cli, tmp_path):
    spec = _write(tmp_path, "cvr", "[cv]\nfolds = 2")
    assert cli("run", spec, "-q").code == 0
    for target in ("runs/cvr", spec):
        result = cli("checkpoints", target)
        assert result.code == 0, result
        assert _headers(result.out) == ["runs/cvr/fold-0:", "runs/cvr/fold-1:"], result
        assert result.out.count("  step-000000006  step 6 ") == 2, result
        assert "runs/cvr/fold-1/checkpoints/step-000000003" in result.out, result


def test_a_study_lists_each_trial_s_checkpoints(cli, tmp_path):
    spec = _write(tmp_path, "s")
    for number in (0, 2, 10):  # what engine tune leaves: <study>/trials/<n>/, each a run
        assert cli("run", spec, "-q", "--run-dir", f"study/trials/{number}").code == 0
    (tmp_path / "study" / "trials.csv").write_text("number,value\n")
    result = cli("checkpoints", "study")
    assert result.code == 0, result
    assert _headers(result.out) == ["study/trials/0:", "study/trials/2:", "study/trials/10:"], result
    assert result.out.count("step-000000006  step 6 ") == 3, result


def test_one_run_is_listed_as_before_and_a_folder_of_nothing_is_one_line(cli, tmp_path):
    spec = _write(tmp_path, "one")
    assert cli("run", spec, "-q").code == 0
    result = cli("checkpoints", "runs/one")
    assert result.code == 0 and not _headers(result.out), result
    assert result.out.startswith("step-000000003  step 3 "), result
    (tmp_path / "empty").mkdir()
    result = cli("checkpoints", "empty")
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "neither a spec file nor a run directory" in result.error_lines[0], result
