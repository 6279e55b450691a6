"""examples/digits_mlp_bf16.toml: bf16 autocast with a warmup-cosine schedule (needs engine-schedulers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch_helpers import engine

REPO = Path(__file__).resolve().parents[2]


def test_digits_mlp_bf16_with_warmup_cosine(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("engine_schedulers", reason="the example's warmup-cosine comes from engine-schedulers")
    result = engine("run", "examples/digits_mlp_bf16.toml", "--run-dir", str(tmp_path / "run"), "-q", cwd=REPO)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["metrics"]["val/accuracy"] >= 0.95
    lrs = [json.loads(line).get("lr") for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    lrs = [lr for lr in lrs if lr is not None]
    assert lrs[0] < 3e-3 and max(lrs) <= 3e-3 and lrs[-1] < max(lrs)  # warmup, then decay
