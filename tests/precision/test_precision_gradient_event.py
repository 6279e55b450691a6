"""``on_before_optimizer_step`` under a gradient scaler sees the unscaled gradients."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from torch_helpers import base_spec, logged_grad_norms


def test_16_mixed_gradients_are_unscaled_before_the_event(tmp_path: Path) -> None:
    spec = base_spec(model_args={"dropout": 0.0}, shuffle=False)
    spec["loop"] = {"max_steps": 3}
    full = logged_grad_norms(tmp_path / "fp32", spec)
    spec["precision"] = {"use": "16-mixed"}  # a GradScaler, at 65536 to start, even on CPU
    mixed = logged_grad_norms(tmp_path / "fp16", spec)
    assert [step for step, _ in mixed] == [1, 2, 3]
    assert all(math.isfinite(norm) for _, norm in mixed)
    # The scaled gradients would be 65536 times larger; float16 arithmetic differs a little.
    assert mixed[0][1] == pytest.approx(full[0][1], rel=0.05)
