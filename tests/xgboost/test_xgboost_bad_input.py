"""Mistakes in the spec or the data: exit status 2 and one clear line on stderr, no traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from engine_tabular.testing import changed_csv, refused_run_line

from engine._core.spec.toml_text import dump_toml
from engine.testing import cli
from engine.testing.without import engine_without


def run_cli(tmp_path: Path, data: dict, params: dict | None = None) -> str:
    spec = {
        "loop": {"max_steps": 5},
        "backend": {"use": "xgboost", "params": params or {"objective": "binary:logistic"}, "data": data},
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
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"objective": "binary:logistic", "max_depth": -1})
    assert line.startswith("engine: error: backend.params.max_depth: xgboost rejected max_depth = -1")
    assert "max_depth should be greater equal to 0" in line


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


def test_an_infinite_label_is_refused(csvs, tmp_path):
    def inf(frame):
        frame["label"] = frame["label"].astype(float)
        frame.loc[4, "label"] = float("inf")
    data = {"train": changed_csv(csvs[0], tmp_path, "d.csv", inf)}
    line = run_cli(tmp_path, data, {"objective": "reg:squarederror"})
    assert "backend.data.label" in line and "1 infinite value(s) (first in data row 5)" in line


def test_an_infinite_feature_is_refused_and_named(csvs, tmp_path):
    data = {"train": str(csvs[0]), "valid": changed_csv(csvs[1], tmp_path, "v.csv",
                                                        lambda f: f.__setitem__("mean_area", f["mean_area"].where(
                                                            f.index != 2, float("-inf"))))}
    line = run_cli(tmp_path, data)
    assert "column 'mean_area' of validation data 'v.csv'" in line and "infinite" in line


def test_missing_feature_values_still_train(csvs, tmp_path):
    name = changed_csv(csvs[0], tmp_path, "d.csv", lambda f: f.__setitem__("mean_area", f["mean_area"].where(
        f.index % 3 != 0)))
    spec = {"loop": {"max_steps": 3},
            "backend": {"use": "xgboost", "params": {"objective": "binary:logistic"}, "data": {"train": name}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", str(tmp_path / "run"), "-q", cwd=tmp_path, in_process=True)
    assert result.code == 0, result


def test_one_class_classification_data_is_refused(csvs, tmp_path):
    data = {"train": changed_csv(csvs[0], tmp_path, "d.csv", lambda f: f.__setitem__("label", 1))}
    line = run_cli(tmp_path, data)
    assert "backend.data.label" in line and "one class of label 'label' (1.0)" in line


def test_a_binary_objective_on_three_string_classes(csvs, tmp_path):
    data = {"train": changed_csv(csvs[0], tmp_path, "d.csv",
                                 lambda f: f.__setitem__("label", [("a", "b", "c")[i % 3] for i in range(len(f))]))}
    line = run_cli(tmp_path, data)
    assert line.startswith("engine: error: backend.params.objective: objective 'binary:logistic' needs labels 0 and 1")
    assert "3 distinct values ('a', 'b', 'c')" in line and "multi:softprob" in line and "num_class = 3" in line


def test_too_few_classes_for_the_labels(csvs, tmp_path):
    three = [i % 3 for i in range(len(pd.read_csv(csvs[0])))]
    data = {"train": changed_csv(csvs[0], tmp_path, "d.csv", lambda f: f.__setitem__("label", three))}
    line = run_cli(tmp_path, data, {"objective": "multi:softprob", "num_class": 2})
    assert "backend.params.num_class" in line and "set num_class = 3" in line and "[bt]" not in line


@pytest.mark.parametrize(("params", "words"), [
    ({"eta": {"a": 1}}, ["backend.params.eta", "{'a': 1}"]),
    ({"learning_rate": "fast"}, ["backend.params.learning_rate", "must be a number"]),
])
def test_a_parameter_value_of_the_wrong_type(csvs, tmp_path, params, words):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"objective": "binary:logistic", **params})
    assert all(word in line for word in words), line


def test_without_the_xgboost_package_check_names_it(csvs, tmp_path):
    spec = {"loop": {"max_steps": 3}, "backend": {"use": "xgboost", "data": {"train": str(csvs[0])}}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    for command in (["check", "spec.toml"], ["run", "spec.toml", "--run-dir", "run"]):
        result = engine_without(["xgboost"], command, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "traceback from your code" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "needs the Python package 'xgboost'" in lines[0], result.stderr
        assert "pip install xgboost" in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("key", ["nthread", "n_jobs"])
def test_thousands_of_threads_are_refused(csvs, tmp_path, key):
    line = run_cli(tmp_path, {"train": str(csvs[0])}, {"objective": "binary:logistic", key: 100000})
    assert f"backend.params.{key}: {key} = 100000 is more than this machine can run" in line


def test_a_library_failure_during_training_is_one_line_without_its_native_trace(csvs, tmp_path):
    three = [i % 3 for i in range(len(pd.read_csv(csvs[0])))]
    data = {"train": changed_csv(csvs[0], tmp_path, "d.csv", lambda f: f.__setitem__("label", three))}
    spec = {"loop": {"max_steps": 3}, "backend": {"use": "xgboost", "params": {"objective": "reg:logistic"},
                                                  "data": data}}
    (tmp_path / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", str(tmp_path / "run"), "-q", cwd=tmp_path, in_process=True)
    stderr = result.err  # with what the library wrote to file descriptor 2
    lines = stderr.strip().splitlines()
    assert result.code == 1 and len(lines) == 1, stderr
    assert lines[0].startswith("engine: error: xgboost failed in round 1: ") and "base_score" in lines[0]
    assert "[bt]" not in stderr and "Stack trace" not in stderr and ".cu:" not in lines[0]


def test_validation_rows_wider_than_the_training_rows(csvs, tmp_path):
    data = {"train": str(csvs[0]),
            "valid": changed_csv(csvs[1], tmp_path, "v.csv", lambda f: f.__setitem__("extra", 1.0))}
    line = run_cli(tmp_path, data)
    assert "backend.data.valid" in line and "has 31 feature columns, the training data 30: it also has 'extra'" in line
