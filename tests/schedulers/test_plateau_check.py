"""reduce-on-plateau watching a metric the backend never reports, or with a non-finite option:
``engine check`` and ``engine run`` refuse it with one line before anything is written."""

from __future__ import annotations

import pytest

SPEC = """
[loop]
max_steps = 6
eval_every = "2 steps"

[backend]
use = "testing"

[scheduler]
use = "reduce-on-plateau"
{options}
"""

CASES = {
    "unknown-monitor": ('monitor = "val/acc"',
                        "scheduler.monitor: 'val/acc' is not a metric the backend reports — did you mean "
                        "'val/mae'? it reports: val/loss, val/mae"),
    "gamma-inf": ("gamma = inf", "scheduler.gamma: expected a finite number, got inf"),
    "threshold-nan": ("threshold = nan", "scheduler.threshold: expected a finite number, got nan"),
}


@pytest.mark.parametrize("case", CASES)
def test_check_and_run_refuse_it_before_anything_is_written(cli, tmp_path, case):
    options, message = CASES[case]
    (tmp_path / "spec.toml").write_text(SPEC.format(options=options))
    for command in ("check", "run"):
        result = cli(command, "spec.toml")
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and message in result.error_lines[0], result
        assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"], f"{command} wrote files"


def test_a_reported_monitor_passes_check(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(options='monitor = "val/mae"'))
    result = cli("check", "spec.toml")
    assert result.code == 0, result
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]
