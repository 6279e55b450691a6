"""Mistakes a user can make, seen from the command line: exit status 2 and one clear line.

Most cases call the CLI's ``main`` in this process (the same code as ``python -m engine``, without
paying torch's import again); the first cases run ``python -m engine`` in a subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from torch_helpers import base_spec, cli_env, engine, error_lines, toml_spec

from engine._core.cli.main import main
from engine.testing.without import engine_without


def run(tmp_path: Path, spec: dict[str, Any], *extra: str) -> tuple[int, list[str], str]:
    """``python -m engine run spec.toml`` in a subprocess."""
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", *extra, cwd=tmp_path)
    return result.returncode, error_lines(result.stderr), result.stderr


@pytest.fixture
def cli_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``engine run spec.toml`` through the CLI's ``main`` in this process, in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)

    def run_main(spec: dict[str, Any], *extra: str, command: str = "run") -> tuple[int, list[str], str]:
        (tmp_path / "spec.toml").write_text(toml_spec(spec))
        capsys.readouterr()
        args = [command, "spec.toml"] + (["--run-dir", "run", "-q"] if command == "run" else [])
        code = main([*args, *extra])
        stderr = capsys.readouterr().err
        return code, error_lines(stderr), stderr
    return run_main


def assert_one_clean_line(code: int, lines: list[str], stderr: str, *words: str) -> None:
    assert code == 2, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(("key", "path", "words"), [
    ("model", "no_such_module:Tiny", ["no_such_module", "backend.model"]),
    ("model", "torchtoy:NoSuchModel", ["'torchtoy'", "'NoSuchModel'"]),
    ("data", "torchtoy:no_such_data", ["'torchtoy'", "'no_such_data'", "backend.data"]),
])
def test_an_import_path_that_does_not_exist(tmp_path: Path, cli_main: Any, key: str, path: str,
                                            words: list[str]) -> None:
    code, lines, stderr = cli_main(base_spec(**{key: path}))
    assert_one_clean_line(code, lines, stderr, *words)
    assert not (tmp_path / "run").exists()


def test_a_user_factory_that_raises_shows_the_users_traceback(tmp_path: Path) -> None:
    code, lines, stderr = run(tmp_path, base_spec(model="torchtoy:broken_model"))
    assert code == 1 and len(lines) == 1, stderr
    assert "torchtoy:broken_model" in lines[0] and "ValueError: broken on purpose" in lines[0]
    ours = stderr.split("---- traceback from your code ----", 1)[1].split("------", 1)[0]
    assert "torchtoy.py" in ours and 'raise ValueError("broken on purpose' in ours
    assert "engine_torch" not in ours  # the user's frames only


def test_outputs_that_do_not_fit_the_loss_name_the_shapes(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(loss="bce_with_logits"))
    assert_one_clean_line(code, lines, stderr, "bce_with_logits", "(16, 3) float32", "(16,) int64", "backend.loss")


def test_a_data_function_returning_the_wrong_thing(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(data="torchtoy:not_a_dict"))
    assert_one_clean_line(code, lines, stderr, "'train'", "'val'")


def test_an_unknown_optimizer(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(optimizer={"use": "adamx", "lr": 0.1}))
    assert_one_clean_line(code, lines, stderr, "unknown optimizer 'adamx'", "backend.optimizer.use", "adamw")


def test_optimizer_options_it_does_not_take(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(optimizer={"use": "sgd", "lr": 0.1, "betas": [0.9, 0.99]}))
    assert_one_clean_line(code, lines, stderr, "optimizer 'sgd'", "betas")


def test_an_unknown_loss_is_found_by_check(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(loss="crossentropy"), command="check")
    assert_one_clean_line(code, lines, stderr, "backend.loss", "'crossentropy'", "cross_entropy")


def test_a_missing_model_module_from_a_subprocess(tmp_path: Path) -> None:
    code, lines, stderr = run(tmp_path, base_spec(model="no_such_module:Tiny"))
    assert_one_clean_line(code, lines, stderr, "no_such_module", "backend.model")


def test_cuda_where_there_is_none(cli_main: Any) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, lines, stderr = cli_main(base_spec(device="cuda"))
    assert_one_clean_line(code, lines, stderr, "'cuda'", "backend.device", "cpu")


def test_resuming_with_another_model_shape_names_the_changed_key(cli_main: Any) -> None:
    spec = base_spec()
    spec["loop"]["max_epochs"] = 1
    assert cli_main(spec)[0] == 0
    spec["loop"]["max_epochs"] = 2
    spec["backend"]["model_args"] = {"hidden": 32}
    code, lines, stderr = cli_main(spec, "--resume")
    assert_one_clean_line(code, lines, stderr, "cannot resume", "backend.model_args.hidden = 32",
                          "start a new run")


# ---------------------------------------------------------------- bad data is refused at start-up


@pytest.mark.parametrize(("data", "data_args", "words"), [
    ("torchtoy:with_empty_val", {}, ["backend.data", "the val split is empty"]),
    ("torchtoy:with_non_finite", {}, ["the train split's inputs (tensor 0)", "nan at row 3, column 2"]),
    ("torchtoy:with_non_finite", {"split": "val", "row": 1, "column": 0, "value": "inf"},
     ["the val split's inputs (tensor 0)", "inf at row 1, column 0"]),
    ("torchtoy:with_wide_val", {}, ["the val split's inputs (tensor 0) has 16 columns, the train split's 8"]),
])
def test_bad_data_is_refused_before_training(tmp_path: Path, cli_main: Any, data: str, data_args: dict[str, Any],
                                              words: list[str]) -> None:
    for command in ("check", "run"):
        code, lines, stderr = cli_main(base_spec(data=data, data_args=data_args), command=command)
        assert_one_clean_line(code, lines, stderr, *words)
    assert not (tmp_path / "run").exists()


def test_a_non_finite_regression_target_is_named(cli_main: Any) -> None:
    spec = base_spec(data="torchtoy:with_non_finite", data_args={"tensor": 1, "row": 5, "column": 0,
                                                                 "value": "-inf"},
                     model_args={"classes": 1}, loss="mse", metrics=[])
    code, lines, stderr = cli_main(spec)
    assert_one_clean_line(code, lines, stderr, "the train split's targets (tensor 1)", "-inf at row 5, column 0")


@pytest.mark.parametrize(("data_args", "words"), [
    ({"kind": "none"}, ["the train dataset's item 0 is None"]),
    ({"kind": "shapes"}, ["the train dataset's items 0, 1, 2, 3, ... cannot be batched together", "[8]", "[7]"]),
])
def test_items_that_cannot_be_batched_are_the_users_mistake(tmp_path: Path, data_args: dict[str, Any],
                                                             words: list[str]) -> None:
    code, lines, stderr = run(tmp_path, base_spec(data="torchtoy:bad_items", data_args=data_args))
    assert code == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_an_item_that_raises_during_training_shows_the_users_traceback(tmp_path: Path) -> None:
    import json

    spec = base_spec(data="torchtoy:bad_items", data_args={"kind": "raise", "broken": 50}, shuffle=False)
    code, lines, stderr = run(tmp_path, spec)
    assert code == 1 and len(lines) == 1, stderr
    assert "the train dataset's item 50 raised KeyError" in lines[0]
    ours = stderr.split("---- traceback from your code ----", 1)[1].split("------", 1)[0]
    assert "torchtoy.py" in ours and "row 50 is missing" in ours and "engine_torch" not in ours
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1 and summary["steps"] == 3


def test_a_split_that_is_not_a_dataset(tmp_path: Path) -> None:
    code, lines, stderr = run(tmp_path, base_spec(data="torchtoy:none_split"))
    assert code == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "'train' split is a NoneType, not a dataset" in lines[0]


# ---------------------------------------------------------------- a user's mistake is one line


def test_an_optimizer_path_to_something_not_callable(cli_main: Any) -> None:
    code, lines, stderr = cli_main(base_spec(optimizer={"use": "torchtoy:NOT_CALLABLE", "lr": 0.1}))
    assert_one_clean_line(code, lines, stderr, "backend.optimizer.use", "'torchtoy:NOT_CALLABLE'", "type int")


def test_an_optimizer_that_raises_is_the_users_code(tmp_path: Path) -> None:
    code, lines, stderr = run(tmp_path, base_spec(optimizer={"use": "torchtoy:RaisingOptimizer", "lr": 0.1}))
    assert code == 1 and len(lines) == 1, stderr
    assert "RuntimeError: the user's optimizer is broken" in lines[0]
    assert "torchtoy.py" in stderr.split("---- traceback from your code ----", 1)[1]


def test_a_model_module_that_exits_on_import(tmp_path: Path) -> None:
    (tmp_path / "exiting_model.py").write_text("import sys\n\nsys.exit(3)\n")
    code, lines, stderr = run(tmp_path, base_spec(model="exiting_model:Model"))
    assert code == 1 and len(lines) == 1, stderr
    assert "'exiting_model:Model'" in lines[0] and "SystemExit: 3" in lines[0]
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- resources are bounded


@pytest.mark.parametrize("key", ["threads", "num_workers"])
def test_thousands_of_threads_or_workers_are_refused_by_check(cli_main: Any, key: str) -> None:
    code, lines, stderr = cli_main(base_spec(**{key: 100000}), command="check")
    assert_one_clean_line(code, lines, stderr, f"backend.{key}", f"{key} = 100000 is more than this machine can run")


def test_more_threads_than_cores_is_a_warning(tmp_path: Path, cli_main: Any) -> None:
    import json
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    spec = base_spec(threads=cores + 1)
    spec["loop"]["max_epochs"] = 1
    code, lines, stderr = cli_main(spec)
    assert code == 0 and not lines, stderr
    assert f"engine: warning: backend.threads = {cores + 1} is more than the {cores} cores" in stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "completed"


def test_without_torch_check_names_the_package(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(toml_spec(base_spec()))
    result = engine_without(["torch"], ["check", "spec.toml"], cwd=tmp_path, env=cli_env(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1 and "needs the Python package 'torch'" in lines[0] and "pip install torch" in lines[0]
