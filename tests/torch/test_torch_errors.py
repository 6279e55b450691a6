"""Mistakes a user can make, seen from the command line: exit status 2 and one clear line.

Most cases call the CLI's ``main`` in this process (the same code as ``python -m engine``, without
paying torch's import again); the first cases run ``python -m engine`` in a subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from torch_helpers import base_spec, engine, error_lines, toml_spec

from engine.cli.main import main


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


def test_resuming_with_a_checkpoint_of_another_model_names_the_keys(cli_main: Any) -> None:
    spec = base_spec()
    spec["loop"]["max_epochs"] = 1
    assert cli_main(spec)[0] == 0
    spec["loop"]["max_epochs"] = 2
    spec["backend"]["model_args"] = {"hidden": 32}
    code, lines, stderr = cli_main(spec, "--resume")
    assert_one_clean_line(code, lines, stderr, "inp.weight (16, 8) vs (32, 8)", "norm.weight", "--resume")
