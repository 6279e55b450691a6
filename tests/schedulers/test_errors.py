"""Bad scheduler options: exit status 2 and one clear line on stderr, from the CLI."""

from __future__ import annotations

import pytest

SPEC = """
[loop]
{loop}

[backend]
use = "testing"

[scheduler]
{scheduler}
"""

CASES = {
    "negative": ("max_steps = 20", 'use = "cosine"\nwarmup_steps = -5',
                 "scheduler.warmup_steps: expected an integer >= 0, got -5"),
    "negative-gamma": ("max_steps = 20", 'use = "exponential"\ngamma = -0.5',
                       "scheduler.gamma: expected a number > 0, got -0.5"),
    "unknown-key": ("max_steps = 20", 'use = "warmup-cosine"\nwarmup_step = 5',
                    "scheduler.warmup_step: unknown key — did you mean 'warmup_steps'?"),
    "warmup-longer-than-steps": ("max_steps = 20", 'use = "warmup-cosine"\nwarmup_steps = 50',
                                 "scheduler.warmup_steps: the warmup (50 steps) is not shorter than the run "
                                 "(20 steps)"),
    "warmup-longer-than-epochs": ("max_epochs = 3", 'use = "warmup-linear"\nwarmup_epochs = 3',
                                  "scheduler.warmup_epochs: the warmup (24 steps) is not shorter than the run "
                                  "(24 steps)"),
    "warmup-fraction-too-big": ("max_steps = 20", 'use = "cosine"\nwarmup_fraction = 1.5',
                                "scheduler.warmup_fraction: must be below 1 (a fraction of the run), got 1.5"),
    "two-warmups": ("max_steps = 20", 'use = "cosine"\nwarmup_steps = 2\nwarmup_fraction = 0.1',
                    "scheduler: warmup_steps and warmup_fraction are both set — give only one warmup length"),
    "warmup-missing": ("max_steps = 20", 'use = "warmup-cosine"',
                       "scheduler: 'warmup-cosine' needs a warmup — set warmup_steps, warmup_epochs or "
                       "warmup_fraction"),
    "steps-in-epoch-mode": ("max_epochs = 3", 'use = "cosine"\ninterval = "epoch"\nwarmup_steps = 4',
                            'scheduler: warmup_steps counts steps, but interval = "epoch" — use warmup_epochs'),
    "milestones": ("max_steps = 20", 'use = "multistep"\nmilestones = [10, 5]',
                   "scheduler.milestones: must be strictly increasing, got [10, 5]"),
    "no-length": ('max_time = "1 min"', 'use = "cosine"',
                  "scheduler: 'cosine' needs the run's length, but only loop.max_time limits the run"),
    "bad-interval": ("max_steps = 20", 'use = "step"\nstep_size = 3\ninterval = "epochs"',
                     "scheduler.interval: expected one of 'step', 'epoch', got 'epochs' (did you mean 'epoch'?)"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_options_exit_2_with_one_line(cli, tmp_path, case):
    loop, scheduler, message = CASES[case]
    (tmp_path / "spec.toml").write_text(SPEC.format(loop=loop, scheduler=scheduler))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 2, result
    assert result.err.splitlines() == result.error_lines and len(result.error_lines) == 1, result
    assert message in result.error_lines[0], result
    assert not (tmp_path / "runs" / "spec").exists()  # nothing left behind


def test_engine_check_reports_the_problem_before_any_run(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(loop="max_steps = 20",
                                                    scheduler='use = "warmup-linear"\nwarmup_fraction = 1.0'))
    result = cli("check", "spec.toml")
    assert result.code == 2, result
    assert result.error_lines == [
        "engine: error: spec.toml: scheduler.warmup_fraction: must be below 1 (a fraction of the run), got 1"]
