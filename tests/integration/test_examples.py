"""Every spec in examples/ runs end to end through the CLI, with every plugin installed.

Short settings keep the matrix fast: 40 steps, two folds, two trials. The run must
complete (exit 0) and leave a summary, and an example that exports a model must point at a
file that exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.toml"))


def short_settings(spec: dict) -> list[str]:
    overrides = ["loop.max_steps=40"]
    if "cv" in spec:
        overrides.append("cv.folds=2")
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_end_to_end(example, tmp_path):
    """Run from the repository root, as the examples say, with every run directory under tmp_path."""
    spec = tomllib.loads(example.read_text())
    name = spec.get("run", {}).get("name", example.stem)
    settings = [*short_settings(spec), "--set", f'run.dir="{tmp_path}"']
    command = ["tune", str(example), "--trials", "2"] if "tune" in spec else ["run", str(example), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "engine", *command, *settings], cwd=REPO,
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = tmp_path / name
    if "tune" in spec:
        assert (run_dir / "best.toml").exists()
        return
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] in ("completed", "stopped"), summary
    for path in summary.get("model", {}).values():
        assert (REPO / path).exists(), path
