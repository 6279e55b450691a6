"""Mistakes in the spec or the data: exit status 2 and one clear line on stderr, no traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engine_tabular.testing import refused_run_line

from engine._core.spec.toml_text import dump_toml
from engine.testing import cli
from engine.testing.without import engine_without


def run_cli(tmp_path: Path, data: dict, params: dict | None = None) -> str:
    spec = {
        "loop": {"max_steps": 5},
        "backend": {"use": "sklearn", "estimator": "sklearn.tree:DecisionTreeClassifier",
                    "params": params or {}, "data": data},
    }
    return refused_run_line(spec, tmp_path)


def test_missing_label_column(csvs, tmp_path):
    line = run_cli(tmp_path, {"train": str(csvs[0]), "label": "diagnosis"})
    assert "backend.data.label" in line and "'diagnosis'" in line and "mean_radius" in line


def test_non_numeric_column_not_declared_categorical(tmp_path):
    pd.DataFrame({"colour": ["red", "blue"] * 10, "x": range(20), "label": [0, 1] * 10}).to_csv(
        tmp_path / "d.csv", index=False)
    line = run_cli(tmp_path, {"train": "d.csv"})
    assert "backend.data.categorical" in line and "'colour'" in line


def test_parameter_the_library_rejects(csvs, tmp_path):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"max_depth": -1})
    assert line.startswith("engine: error: backend.params.max_depth: scikit-learn rejected max_depth = -1")
    assert "must be an int in the range [1, inf)" in line


def test_unknown_parameter(csvs, tmp_path):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"max_dpeth": 3})
    assert "backend.params.max_dpeth" in line


def test_empty_validation_set(csvs, tmp_path):
    pd.read_csv(csvs[1]).iloc[:0].to_csv(tmp_path / "empty.csv", index=False)
    line = run_cli(tmp_path, {"train": str(csvs[0]), "valid": "empty.csv"})
    assert "backend.data.valid" in line and "no rows" in line


def test_holdout_too_small_for_a_validation_row(tmp_path):
    pd.DataFrame({"x": [1.0, 2.0], "label": [0, 1]}).to_csv(tmp_path / "d.csv", index=False)
    line = run_cli(tmp_path, {"train": "d.csv", "val_fraction": 0.1})
    assert "backend.data.val_fraction" in line and "validation set is empty" in line


@pytest.mark.parametrize("source", ["missing.csv", "http://127.0.0.1:9/train.csv"], ids=["file", "url"])
def test_source_that_cannot_be_read(tmp_path, source):
    line = run_cli(tmp_path, {"train": source})
    assert "backend.data.train" in line and f"cannot read {source!r}" in line


def test_csv_with_a_ragged_row_names_the_line(tmp_path):
    (tmp_path / "ragged.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,7,1\n7,8,0\n")
    line = run_cli(tmp_path, {"train": "ragged.csv"})
    assert "'ragged.csv' line 4 has 4 fields, the header has 3" in line


@pytest.mark.parametrize(("estimator", "words"), [
    ("os:getcwd", ["backend.estimator", "'os:getcwd' gave a str, not a scikit-learn estimator"]),
    ("os:sep", ["backend.estimator", "value of type str"]),
])
def test_an_estimator_path_to_something_else(csvs, tmp_path, estimator, words):
    spec = {"loop": {"max_steps": 2},
            "backend": {"use": "sklearn", "estimator": estimator, "data": {"train": str(csvs[0])}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", str(tmp_path / "run"), cwd=tmp_path, in_process=True)
    stderr = result.err
    assert result.code == 2 and "Traceback" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and all(word in stderr for word in words), stderr
    assert not (tmp_path / "run").exists()


def test_one_class_classification_data_is_refused(csvs, tmp_path):
    frame = pd.read_csv(csvs[0])
    frame["label"] = 1
    frame.to_csv(tmp_path / "d.csv", index=False)
    line = run_cli(tmp_path, {"train": "d.csv"})
    assert "backend.data.label" in line and "one class" in line


def test_without_scikit_learn_check_names_it(csvs, tmp_path):
    spec = {"loop": {"max_steps": 3}, "backend": {"use": "sklearn", "estimator": "sklearn.tree:DecisionTreeClassifier",
                                                  "data": {"train": str(csvs[0])}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = engine_without(["sklearn"], ["check", "spec.toml"], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs the Python package 'sklearn'" in lines[0] and "scikit-learn" in lines[0]


def test_thousands_of_jobs_are_refused(csvs, tmp_path):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"n_jobs": 100000})
    assert "backend.params.n_jobs: n_jobs = 100000 is more than this machine can run" in line
