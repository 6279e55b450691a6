"""Mistakes in the spec or the data: exit status 2 and one clear line on stderr, no traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engine_tabular.testing import cli_in_process

from engine.spec.toml_text import dump_toml


def run_cli(tmp_path: Path, data: dict, params: dict | None = None, *, capfd: pytest.CaptureFixture) -> str:
    spec = {
        "loop": {"max_steps": 5},
        "backend": {"use": "xgboost", "params": params or {"objective": "binary:logistic"}, "data": data},
    }
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    capfd.readouterr()
    status = cli_in_process(["run", "spec.toml", "--run-dir", str(tmp_path / "run")], tmp_path)
    stderr = capfd.readouterr().err
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "run").exists()  # a run that never started leaves nothing behind
    return lines[0]


def test_missing_label_column(csvs, tmp_path, capfd):
    line = run_cli(tmp_path, {"train": str(csvs[0]), "label": "diagnosis"}, capfd=capfd)
    assert "backend.data.label" in line and "'diagnosis'" in line and "mean_radius" in line


def test_non_numeric_column_not_declared_categorical(tmp_path, capfd):
    pd.DataFrame({"colour": ["red", "blue"] * 10, "x": range(20), "label": [0, 1] * 10}).to_csv(
        tmp_path / "d.csv", index=False)
    line = run_cli(tmp_path, {"train": "d.csv"}, capfd=capfd)
    assert "backend.data.categorical" in line and "'colour'" in line


def test_parameter_the_library_rejects(csvs, tmp_path, capfd):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"objective": "binary:logistic", "max_depth": -1}, capfd=capfd)
    assert line.startswith("engine: error: backend.params.max_depth: xgboost rejected max_depth = -1")
    assert "max_depth should be greater equal to 0" in line


def test_empty_validation_set(csvs, tmp_path, capfd):
    pd.read_csv(csvs[1]).iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    line = run_cli(tmp_path, {"train": str(csvs[0]), "valid": "empty.csv"}, capfd=capfd)
    assert "backend.data.valid" in line and "no rows" in line


def test_holdout_too_small_for_a_validation_row(tmp_path, capfd):
    pd.DataFrame({"x": [1.0, 2.0], "label": [0, 1]}).to_csv(tmp_path / "d.csv", index=False)
    line = run_cli(tmp_path, {"train": "d.csv", "val_fraction": 0.1}, capfd=capfd)
    assert "backend.data.val_fraction" in line and "validation set is empty" in line


@pytest.mark.parametrize("source", ["missing.csv", "http://127.0.0.1:9/train.csv"], ids=["file", "url"])
def test_source_that_cannot_be_read(tmp_path, source, capfd):
    line = run_cli(tmp_path, {"train": source}, capfd=capfd)
    assert "backend.data.train" in line and f"cannot read {source!r}" in line


def test_csv_with_a_ragged_row_names_the_line(tmp_path, capfd):
    (tmp_path / "ragged.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,7,1\n7,8,0\n")
    line = run_cli(tmp_path, {"train": "ragged.csv"}, capfd=capfd)
    assert "'ragged.csv' line 4 has 4 fields, the header has 3" in line
