"""The test split: evaluated once, on the final model, at the end of a successful run."""

from __future__ import annotations

import json
from pathlib import Path

from torch_helpers import base_spec, engine, error_lines, toml_spec


def run_cli(tmp_path: Path, **backend: object) -> tuple[int, str, Path]:
    (tmp_path / "spec.toml").write_text(toml_spec(base_spec(**backend)))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path)
    return result.returncode, result.stderr, tmp_path / "run"


def test_test_metrics_are_logged_once_at_the_last_step(tmp_path: Path) -> None:
    code, stderr, run = run_cli(tmp_path, data="torchtoy:with_test")
    assert code == 0, stderr
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    tested = [r for r in records if "test/loss" in r]
    summary = json.loads((run / "summary.json").read_text())
    assert [r["step"] for r in tested] == [summary["steps"]] == [18]
    assert set(tested[0]) >= {"test/loss", "test/accuracy"}
    assert summary["metrics"]["test/loss"] == tested[0]["test/loss"] > 0
    assert (run / "model/final.safetensors").is_file()


def test_without_a_test_split_nothing_is_tested(tmp_path: Path) -> None:
    code, stderr, run = run_cli(tmp_path)
    assert code == 0, stderr
    assert not any(name.startswith("test/") for name in json.loads((run / "summary.json").read_text())["metrics"])


def test_a_test_evaluation_that_raises_fails_the_run_and_keeps_the_model(tmp_path: Path) -> None:
    """It used to be reported as a model that could not be written, and the run 'completed'
    without its final model."""
    code, stderr, run = run_cli(tmp_path, data="torchtoy:with_five_test_rows", model="torchtoy:FailsOnFiveRows")
    assert code == 1
    lines = error_lines(stderr)
    assert len(lines) == 1 and "ValueError: the user's model fails on the test split" in lines[0], stderr
    assert "could not write" not in stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert "the user's model fails on the test split" in (run / "error.log").read_text()
    assert (run / "model/final.safetensors").is_file()
