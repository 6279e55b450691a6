"""``engine plot`` takes every kind of directory: a run, a cross-validation (each fold), a study
(each trial); by default it writes ``curves.png`` into the first directory given."""

from __future__ import annotations

SPEC = """
[run]
name = "{name}"

[loop]
max_steps = 20
log_every = 2
eval_every = "10 steps"

[backend]
use = "testing"
{cv}
"""


def _write(tmp_path, name, cv=""):
    (tmp_path / f"{name}.toml").write_text(SPEC.format(name=name, cv=cv))
    return f"{name}.toml"


def test_default_output_goes_into_the_first_run_directory(cli, tmp_path):
    for name in ("slow", "fast"):
        assert cli("run", _write(tmp_path, name), "-q").code == 0
    result = cli("plot", "runs/slow", "runs/fast")
    assert result.code == 0, result
    assert result.out.startswith("wrote runs/slow/curves.png: "), result
    assert (tmp_path / "runs" / "slow" / "curves.png").stat().st_size > 10_000
    assert not (tmp_path / "curves.png").exists()


def test_a_cross_validation_directory_plots_each_fold(cli, tmp_path):
    assert cli("run", _write(tmp_path, "cvr", "[cv]\nfolds = 3"), "-q").code == 0
    result = cli("plot", "runs/cvr", "-m", "val/loss")
    assert result.code == 0, result
    assert result.out == "wrote runs/cvr/curves.png: val/loss for 3 runs\n", result
    assert (tmp_path / "runs" / "cvr" / "curves.png").is_file()


def test_a_study_directory_plots_each_trial_and_each_trial_s_folds(cli, tmp_path):
    spec = _write(tmp_path, "s")
    for number in (0, 1, 10):  # what engine tune leaves: <study>/trials/<n>/, each a run
        assert cli("run", spec, "-q", "--run-dir", f"study/trials/{number}").code == 0
    (tmp_path / "study" / "trials.csv").write_text("number,value\n")
    result = cli("plot", "study", "-o", "study.png")
    assert result.code == 0, result
    assert "for 3 runs" in result.out and (tmp_path / "study.png").is_file(), result
    cv = _write(tmp_path, "c", "[cv]\nfolds = 2")
    for number in (0, 1):
        assert cli("run", cv, "-q", "--run-dir", f"cvstudy/trials/{number}").code == 0
    result = cli("plot", "cvstudy")
    assert result.code == 0 and "wrote cvstudy/curves.png" in result.out and "for 4 runs" in result.out, result


def test_a_folder_with_no_runs_is_one_line(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("plot", "empty")
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert "empty: no metrics.jsonl here, nor runs in fold-<k>/ or trials/<n>/" in result.err
    assert not (tmp_path / "empty" / "curves.png").exists() and not (tmp_path / "curves.png").exists()
