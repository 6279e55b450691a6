"""`engine check` and `engine tune` agree on a space that crosses a limit set elsewhere in the
spec: some values refused is a warning (those trials fail, the study goes on), every value
refused is an error before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv, tune_spec

LIMIT = '''
def engine_check(spec):
    if spec.backend.options.lr > 0.3:
        return [f"backend.lr: {spec.backend.options.lr} is above this model's limit of 0.3"]
    return []
'''


def _spec(tmp_path: Path, low: float, high: float, trials: int = 6) -> None:
    (tmp_path / "limit.py").write_text(LIMIT)
    text = tune_spec(trials=trials, max_steps=10, pruner="none", extra_tune='sampler = "random"',
                     space=f'"backend.lr" = {{ float = [{low}, {high}] }}')
    (tmp_path / "spec.toml").write_text(text.replace("seed = 0\n", 'seed = 0\nplugins = ["limit"]\n', 1))


def test_a_range_partly_past_a_limit_warns_in_check_and_tune_and_its_trials_fail(cli, tmp_path: Path) -> None:
    _spec(tmp_path, 0.01, 0.9)
    checked = cli("check", "spec.toml")
    assert checked.code == 0, checked
    warnings = [line for line in checked.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1, checked
    assert 'tune.space."backend.lr": value 0.9 is refused by the spec' in warnings[0]
    assert "above this model's limit" in warnings[0] and "narrow the range" in warnings[0]

    tuned = cli("tune", "spec.toml", timeout=300)
    assert tuned.code == 0, tuned
    assert warnings[0] in tuned.err  # the same line, before the first trial
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert all((row["state"] == "FAIL") == (float(row["backend.lr"]) > 0.3) for row in rows), rows


@pytest.mark.parametrize("command", ["check", "tune"])
def test_a_range_wholly_past_a_limit_is_refused_by_check_and_tune(cli, tmp_path: Path, command: str) -> None:
    _spec(tmp_path, 0.5, 0.9)
    result = cli(command, "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and "Traceback" not in result.err, result
    assert 'tune.space."backend.lr": value 0.5 is refused by the spec: backend.lr: 0.5 is above' \
        in result.error_lines[0], result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["limit.py", "spec.toml"]
