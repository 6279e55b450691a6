"""examples/digits_mlp.toml, run as a user runs it: from the repository root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from torch_helpers import engine

REPO = Path(__file__).resolve().parents[2]


def test_digits_mlp_reaches_95_percent(tmp_path: Path) -> None:
    """The time it takes (seconds on a CPU) is a benchmark's business, not a test's."""
    pytest.importorskip("sklearn")
    result = engine("run", "examples/digits_mlp.toml", "--run-dir", str(tmp_path / "run"), "-q", cwd=REPO)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["metrics"]["val/accuracy"] >= 0.95
    assert Path(summary["model"]["final"]).is_file() and Path(summary["model"]["best"]).is_file()
