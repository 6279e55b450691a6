"""Bad [tune] input: exit 2 and one clear line, no traceback, before any trial runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import tune_spec

CASES = {
    "unknown path": (dict(space='"backend.lrr" = { float = [0.01, 0.1] }'),
                     "tune.space.\"backend.lrr\": backend (testing) has no key 'lrr'"),
    "unknown section": (dict(space='"optimizer.lr" = { float = [0.01, 0.1] }'),
                        "the spec has no section [optimizer]"),
    "low above high": (dict(space='"backend.lr" = { float = [0.5, 0.1] }'), "low 0.5 is greater than high 0.1"),
    "log with low 0": (dict(space='"backend.lr" = { float = [0.0, 0.1], log = true }'), "log scale needs low > 0"),
    "int log with low 0": (dict(space='"backend.batch_size" = { int = [0, 8], log = true }'),
                           "log scale needs low > 0"),
    "unknown sampler": (dict(extra_tune='sampler = "tpee"'), "tune.sampler: expected one of"),
    "unknown pruner": (dict(extra_tune='pruner_options = {}', pruner="medain"), "tune.pruner: expected one of"),
    "multi-objective with a pruner": (
        dict(pruner="percentile", extra_tune='metric = ["val/loss", "val/mae"]\ndirection = "minimize"'),
        "cannot prune a study with several metrics"),
    "value the spec refuses": (dict(space='"backend.batch_size" = { float = [1.0, 8.0] }'),
                               "expected an integer"),
    "unknown sampler option": (dict(extra_tune='sampler = "random"', sampler_options="{ n_startup = 3 }"),
                               "tune.sampler_options.n_startup: sampler 'random' has no option 'n_startup'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tune_input_is_one_line_and_exit_2(cli, tmp_path: Path, case: str) -> None:
    spec_args, expected = CASES[case]
    text = tune_spec(**spec_args)
    if "metric = [" in text:
        text = text.replace('metric = "val/loss"\ndirection = "minimize"\n', "")
    (tmp_path / "spec.toml").write_text(text)
    result = cli("tune", "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and result.err.count("\n") == 1, result
    assert expected in result.err, result
    assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()  # no trial ran


def test_engine_check_reports_space_errors(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(space='"backend.lr" = { float = [0.5, 0.1] }\n'
                                                          '"loop.max_stepz" = { int = [1, 5] }'))
    result = cli("check", "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 2, result
    assert "greater than high" in result.err and "loop has no key 'max_stepz'" in result.err


@pytest.mark.parametrize("flags, expected", [
    (["--trials", "0"], "--trials 0: expected a positive integer"),
    (["--timeout", "soon"], "--timeout soon"),
    (["--workers", "100000"], "tune.workers: workers = 100000 is more than this machine can run"),
])
def test_bad_command_line(cli, tmp_path: Path, flags: list[str], expected: str) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec())
    result = cli("tune", "spec.toml", *flags)
    assert result.code == 2 and len(result.error_lines) == 1 and expected in result.err, result


@pytest.mark.parametrize("metric", ['"val/acc"', '["val/loss", "val/mse"]'])
def test_a_tune_metric_the_backend_does_not_report_is_refused_before_any_trial(cli, tmp_path: Path,
                                                                              metric: str) -> None:
    text = tune_spec(pruner="none").replace('metric = "val/loss"\ndirection = "minimize"\n',
                                            f"metric = {metric}\ndirection = \"minimize\"\n")
    (tmp_path / "spec.toml").write_text(text)
    for command in ("check", "tune"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and "Traceback" not in result.err, result
        assert "is not a metric the backend reports — did you mean 'val/mae'? it reports: val/loss, val/mae" \
            in result.error_lines[0], result
        assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]  # no study.db, no trial


@pytest.mark.parametrize(("space", "expected"), [
    ('"backend.batch_size" = { float = [1.0, 8.0] }', "backend.batch_size: expected an integer"),
    ('"backend.lr" = { categorical = [0.1, -0.5] }',
     "value -0.5 is refused by the spec: backend.lr: expected a number > 0"),
    ('"loop.max_steps" = { int = [0, 10] }',
     "value 0 is refused by the spec: loop.max_steps: expected an integer > 0"),
])
def test_engine_check_refuses_space_values_the_spec_refuses(cli, tmp_path: Path, space: str, expected: str) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(space=space))
    for command in ("check", "tune"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and expected in result.error_lines[0], result
        assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]
