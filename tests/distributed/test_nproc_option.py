"""``engine run --nproc N`` comes from engine-distributed (through ``engine_configure_command`` and
``engine_command_main``); a request that cannot work is one line before any process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import engine_cli

SPEC = '[loop]\nmax_steps = 2\n[backend]\nuse = "testing"\n'


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    (tmp_path / "s.toml").write_text(SPEC)
    return tmp_path


def test_run_help_lists_nproc_when_engine_distributed_is_installed(spec: Path) -> None:
    result = engine_cli("run", "--help", cwd=spec)
    assert result.code == 0 and "--nproc N" in result.out, result


@pytest.mark.parametrize(("args", "env", "line"), [
    (("--nproc", "100000"), {}, "engine: error: --nproc 100000: more processes than this machine can run — "
                                "pass at most"),
    (("--nproc", "0"), {}, "engine: error: --nproc 0: the number of processes must be at least 1"),
    (("--nproc=2",), {"WORLD_SIZE": "2"}, "engine: error: --nproc was given to a process that torchrun already "
                                          "started — drop --nproc"),
])
def test_a_request_that_cannot_work_is_one_line_before_any_process_starts(spec, args, env, line) -> None:
    result = engine_cli("run", "s.toml", *args, cwd=spec, env=env)
    assert result.code == 2 and len(result.error_lines) == 1, result
    assert result.error_lines[0].startswith(line), result
    assert not (spec / "runs").exists()


def test_blocking_engine_distributed_takes_nproc_away_and_says_so(spec: Path) -> None:
    result = engine_cli("-p", "no:distributed", "run", "s.toml", "--nproc", "2", cwd=spec)
    assert result.code == 2 and result.error_lines == [
        "engine: error: engine run: unrecognized option --nproc — it is provided by engine-distributed, which is "
        "installed but not loaded (blocked with -p no:distributed, or ENGINE_DISABLE_PLUGIN_AUTOLOAD is set)"], result


def test_nproc_without_torch_names_the_extra_to_install(spec: Path) -> None:
    (spec / "sitecustomize.py").write_text('import sys\nsys.modules["torch"] = None  # as if not installed\n')
    result = engine_cli("run", "s.toml", "--nproc", "2", cwd=spec)
    assert result.code == 2 and result.error_lines == [
        "engine: error: --nproc 2 needs torch, which is not installed — pip install 'engine-distributed[torch]', "
        "or drop --nproc"], result
    assert not (spec / "runs").exists()
