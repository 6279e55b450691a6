"""Each schedule's lr at known steps, read back from metrics.jsonl.

The lr logged at step ``s`` is the one step ``s`` ran with: the schedule evaluated after
``s - 1`` steps. Values are multiples of the base lr.
"""

from __future__ import annotations

import itertools
import math

import pytest

COS_QUARTER = 0.5 * (1 + math.cos(math.pi / 4))

CASES = {
    "constant": ({"use": "constant", "factor": 0.5}, 10, {1: 0.5, 10: 0.5}),
    "constant-warmup": ({"use": "constant", "warmup_steps": 4}, 10, {1: 0.25, 2: 0.5, 4: 1.0, 10: 1.0}),
    "step": ({"use": "step", "step_size": 5, "gamma": 0.5}, 20, {1: 1.0, 5: 1.0, 6: 0.5, 11: 0.25, 20: 0.125}),
    "multistep": ({"use": "multistep", "milestones": [3, 7]}, 10, {3: 1.0, 4: 0.1, 7: 0.1, 8: 0.01, 10: 0.01}),
    "exponential": ({"use": "exponential", "gamma": 0.9}, 12, {1: 1.0, 3: 0.81, 11: 0.9**10}),
    "cosine": ({"use": "cosine"}, 20, {1: 1.0, 6: COS_QUARTER, 11: 0.5, 16: 1 - COS_QUARTER}),
    "cosine-floor": ({"use": "cosine", "min_factor": 0.1}, 20, {1: 1.0, 11: 0.55}),
    "warmup-cosine": ({"use": "warmup-cosine", "warmup_steps": 4}, 20,
                      {1: 0.25, 3: 0.75, 4: 1.0, 5: 1.0, 13: 0.5, 17: 1 - COS_QUARTER}),
    "warmup-linear": ({"use": "warmup-linear", "warmup_steps": 5}, 25,
                      {1: 0.2, 5: 1.0, 6: 1.0, 16: 0.5, 25: 0.05}),
    "warmup-linear-floor": ({"use": "warmup-linear", "warmup_steps": 5, "min_factor": 0.5}, 25, {16: 0.75}),
    "polynomial": ({"use": "polynomial", "power": 2.0}, 20, {1: 1.0, 11: 0.25}),
    "polynomial-floor": ({"use": "polynomial", "power": 2.0, "min_factor": 0.2}, 20, {11: 0.4}),
    # PyTorch OneCycleLR(max_lr=1, total_steps=20, pct_start=0.25, div_factor=10,
    # final_div_factor=100, anneal_strategy="linear"): peak after 4 steps, 0.001 at the last.
    "one-cycle-linear": ({"use": "one-cycle", "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0,
                          "anneal": "linear"}, 20, {1: 0.1, 3: 0.55, 5: 1.0, 10: 1 - 0.999 / 3, 20: 0.001}),
    "one-cycle-cos": ({"use": "one-cycle", "pct_start": 0.25}, 20, {1: 0.04, 3: 0.52, 5: 1.0, 20: 0.04 / 1e4}),
}


@pytest.mark.parametrize("case", CASES)
def test_curve_at_known_steps(curve_of, case):
    scheduler, steps, expected = CASES[case]
    curve = curve_of(scheduler, max_steps=steps)
    assert sorted(curve) == list(range(1, steps + 1))
    for step, value in expected.items():
        assert curve[step] == pytest.approx(value, rel=1e-9, abs=1e-12), f"step {step}"


def test_decaying_curves_fall_monotonically_after_warmup(curve_of):
    curve = curve_of({"use": "warmup-cosine", "warmup_steps": 5}, max_steps=40)
    values = [curve[s] for s in range(1, 41)]
    assert values[:5] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert all(b <= a for a, b in itertools.pairwise(values[5:]))
    assert values[-1] < 0.01


def test_warmup_fraction_is_a_share_of_the_run(curve_of):
    curve = curve_of({"use": "warmup-linear", "warmup_fraction": 0.25}, max_steps=40)
    # 10 warmup steps, then 30 steps of linear decay.
    assert curve[1] == pytest.approx(0.1)
    assert curve[10] == pytest.approx(1.0)
    assert curve[26] == pytest.approx(0.5)


def test_warmup_fraction_follows_max_epochs(curve_of):
    curve = curve_of({"use": "cosine", "warmup_fraction": 0.25}, max_epochs=4)
    # 4 epochs of 8 steps: 8 warmup steps.
    assert curve[1] == pytest.approx(1 / 8)
    assert curve[8] == pytest.approx(1.0)
    assert curve[21] == pytest.approx(0.5)  # 12 of 24 decay steps done


def test_warmup_epochs_in_step_mode(curve_of):
    curve = curve_of({"use": "cosine", "warmup_epochs": 1}, max_steps=40)
    assert curve[1] == pytest.approx(1 / 8)
    assert curve[8] == pytest.approx(1.0)
    assert curve[25] == pytest.approx(0.5)  # 16 of 32 decay steps done


def test_per_epoch_interval_changes_lr_only_at_epoch_starts(curve_of):
    curve = curve_of({"use": "step", "step_size": 2, "gamma": 0.5, "interval": "epoch"}, max_epochs=6)
    by_epoch = [{curve[s] for s in range(e * 8 + 1, e * 8 + 9)} for e in range(6)]
    assert all(len(values) == 1 for values in by_epoch)
    assert [values.pop() for values in by_epoch] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])


def test_per_epoch_warmup_cosine(curve_of):
    curve = curve_of({"use": "warmup-cosine", "warmup_epochs": 2, "interval": "epoch"}, max_epochs=6)
    per_epoch = [curve[e * 8 + 1] for e in range(6)]
    assert per_epoch == pytest.approx([0.5, 1.0, 1.0, COS_QUARTER, 0.5, 1 - COS_QUARTER])
    assert curve[8] == curve[1] and curve[48] == curve[41]


def test_per_epoch_warmup_fraction_counts_epochs(curve_of):
    curve = curve_of({"use": "warmup-linear", "warmup_fraction": 0.5, "interval": "epoch"}, max_epochs=4)
    assert [curve[e * 8 + 1] for e in range(4)] == pytest.approx([0.5, 1.0, 1.0, 0.5])
