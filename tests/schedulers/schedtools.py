"""Helpers for the schedulers suite: run a spec on the testing backend and read its lr curve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.testing import run_spec

BASE_LR = 0.1


def lr_curve(run_dir: Path) -> dict[int, float]:
    """The lr logged at each step, as a multiple of the base lr."""
    curve = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "lr" in record:
            curve[record["step"]] = record["lr"] / BASE_LR
    return curve


def train(tmp_path: Path, scheduler: dict[str, Any], **loop: Any) -> dict[int, float]:
    """Run the testing backend (8 steps per epoch) with ``scheduler``; return the lr curve."""
    spec = {
        "loop": {"log_every": 1, "eval_every": "1 epoch", **loop},
        "backend": {"use": "testing", "lr": BASE_LR, "train_size": 64, "batch_size": 8},
        "scheduler": scheduler,
    }
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed", result.summary["reason"]
    return lr_curve(result.dir)
