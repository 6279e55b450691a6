"""reduce-on-plateau: the lr falls when the monitored metric stalls, and only then."""

from __future__ import annotations

import pytest
from schedtools import BASE_LR, lr_curve

from engine.testing import run_spec

# With a tiny learning rate the validation loss barely moves: every evaluation after the
# first is "no improvement" under the default relative threshold (1e-4).
STALLED = {"use": "testing", "lr": 1e-7, "noise": 0.0}


def _run(tmp_path, backend, scheduler, steps=12):
    spec = {"loop": {"max_steps": steps, "log_every": 1, "eval_every": "1 step"},
            "backend": backend, "scheduler": {"use": "reduce-on-plateau", **scheduler}}
    result = run_spec(spec, tmp_path / "run")
    return result, lr_curve(result.dir)


def test_stalled_metric_reduces_after_patience(tmp_path):
    result, curve = _run(tmp_path, STALLED, {"patience": 2, "gamma": 0.5})
    assert result.status == "completed"
    scale = 1e-7 / BASE_LR
    factors = [round(curve[s] / scale, 12) for s in range(1, 13)]
    # eval 1 sets the best; evals 2-4 are bad, more than patience=2 at eval 4: step 5 runs at 0.5.
    assert factors == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125]


def test_cooldown_and_floor(tmp_path):
    _, curve = _run(tmp_path, STALLED, {"patience": 0, "gamma": 0.5, "cooldown": 1, "min_factor": 0.2})
    scale = 1e-7 / BASE_LR
    factors = [round(curve[s] / scale, 12) for s in range(1, 9)]
    # patience 0: every bad eval reduces, then one eval of cooldown; never below 0.2.
    assert factors == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]


def test_improving_metric_keeps_the_lr(tmp_path):
    _, curve = _run(tmp_path, {"use": "testing", "lr": BASE_LR, "noise": 0.0}, {"patience": 0})
    assert set(curve.values()) == {1.0}


def test_mode_max_on_a_falling_loss_reduces(tmp_path):
    _, curve = _run(tmp_path, {"use": "testing", "lr": BASE_LR, "noise": 0.0},
                    {"patience": 0, "mode": "max", "gamma": 0.5})
    assert curve[2] == pytest.approx(1.0) and curve[3] == pytest.approx(0.5) and curve[4] == pytest.approx(0.25)


def test_warmup_multiplies_the_reduction(tmp_path):
    _, curve = _run(tmp_path, STALLED, {"patience": 0, "gamma": 0.5, "warmup_steps": 4}, steps=5)
    scale = 1e-7 / BASE_LR
    # warmup 1/4, 2/4, 3/4, 1, 1 times the reductions 1, 1, 0.5, 0.25, 0.125
    assert [curve[s] / scale for s in range(1, 6)] == pytest.approx([0.25, 0.5, 0.375, 0.25, 0.125])


def test_unknown_monitor_is_refused_before_the_run_naming_the_key(tmp_path):
    from engine._core.errors import SpecError

    with pytest.raises(SpecError, match=r"scheduler\.monitor: 'val/accuracy' is not a metric the backend reports"):
        _run(tmp_path, STALLED, {"monitor": "val/accuracy"}, steps=3)
    assert not (tmp_path / "run").exists()  # refused before the run directory was made
