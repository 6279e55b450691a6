"""`engine new-plugin` writes a package that installs with pip and whose tests pass as generated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_generated_plugin_installs_and_its_tests_pass(cli, tmp_path):
    result = cli("new-plugin", "csv-log", "--dir", "out")
    assert result.code == 0, result
    root = tmp_path / "out/engine-csv-log"
    assert (root / "engine_csv_log/plugin.py").exists()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin/python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ENGINE_EXPECT_PLUGINS")}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(REPO), f"{root}[test]"],
                             capture_output=True, text=True, env=env, check=False)
    assert install.returncode == 0, install.stderr
    listed = subprocess.run([str(venv / "bin/engine"), "plugins"], capture_output=True, text=True, env=env,
                            check=False)
    assert "csv-log  (engine-csv-log 0.1.0)" in listed.stdout, listed
    tests = subprocess.run([str(python), "-m", "pytest", "-q", str(root / "tests")], capture_output=True,
                           text=True, env=env, cwd=tmp_path, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout


@pytest.mark.parametrize("bad", ["Bad Name", "1st", "class"])
def test_invalid_names_are_refused(cli, bad):
    result = cli("new-plugin", bad)
    assert result.code == 2 and "invalid plugin name" in result.err


@pytest.mark.parametrize("reserved", ["tracker", "engine-backend"])
def test_a_component_kind_is_refused_as_a_plugin_name(cli, tmp_path, reserved):
    result = cli("new-plugin", reserved)
    assert result.code == 2 and "is a component kind" in result.err and "Traceback" not in result.err
    assert not list(tmp_path.glob("engine-*"))
