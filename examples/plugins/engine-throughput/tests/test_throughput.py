"""The plugin, installed with pip, adds its section and logs throughput for any backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.testing import run_spec

EXAMPLE = Path(__file__).resolve().parents[3] / "throughput_testing.toml"


def test_logs_throughput_every_n_steps(tmp_path):
    result = run_spec({"backend": {"use": "testing", "batch_size": 4}, "loop": {"max_steps": 30},
                       "throughput": {"every": 10}}, tmp_path / "run")
    assert result.status == "completed"
    records = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    perf = [r for r in records if "perf/steps_per_sec" in r]
    assert [r["step"] for r in perf] == [10, 20, 30]
    assert all(r["perf/steps_per_sec"] > 0 for r in perf)
    assert all(r["perf/samples_per_sec"] == r["perf/steps_per_sec"] * 4 for r in perf)


def test_without_the_section_the_plugin_does_nothing(tmp_path):
    run_spec({"backend": {"use": "testing"}, "loop": {"max_steps": 30}}, tmp_path / "run")
    assert "perf/" not in (tmp_path / "run/metrics.jsonl").read_text()


def test_bad_option_is_one_line_through_the_cli(tmp_path):
    (tmp_path / "s.toml").write_text('[loop]\nmax_steps = 3\n[backend]\nuse = "testing"\n[throughput]\nevery = 0\n')
    result = subprocess.run([sys.executable, "-m", "engine", "check", "s.toml"], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "engine: error: s.toml:6: throughput.every: expected an integer > 0, got 0"


def test_the_example_spec_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine", "run", str(EXAMPLE), "--quiet",
                             "--run-dir", str(tmp_path / "run")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "perf/steps_per_sec" in (tmp_path / "run/metrics.jsonl").read_text()
