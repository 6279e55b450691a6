"""``on_before_optimizer_step``: a plugin sees the gradients of every optimizer step, once."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from torch_helpers import base_spec, logged_grad_norms


def grad_norms(tmp_path: Path, **backend: Any) -> tuple[list[int], list[float]]:
    """Train the toy model two epochs (12 batches) with the gradient probe; its norms by step."""
    spec = base_spec(**backend)
    spec["loop"]["max_epochs"] = 2
    logged = logged_grad_norms(tmp_path, spec)
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["steps"] == max(step for step, _ in logged)
    return [step for step, _ in logged], [norm for _, norm in logged]


@pytest.mark.parametrize(("backend", "steps"), [
    ({}, 12),                                # one optimizer step per batch
    ({"accumulate": 2}, 6),                  # 12 batches, 6 optimizer steps
    ({"accumulate": 3, "clip_norm": 1.0}, 4),
])
def test_once_per_optimizer_step_with_finite_gradients(tmp_path: Path, backend: dict[str, Any],
                                                       steps: int) -> None:
    logged_steps, norms = grad_norms(tmp_path, **backend)
    assert logged_steps == list(range(1, steps + 1))
    assert all(math.isfinite(norm) and norm > 0 for norm in norms)


def test_fires_before_clipping(tmp_path: Path) -> None:
    clip = 1e-4
    _, norms = grad_norms(tmp_path, clip_norm=clip)
    assert all(norm > 10 * clip for norm in norms)  # the gradients as computed, not as clipped
