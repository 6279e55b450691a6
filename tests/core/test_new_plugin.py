"""`engine new-plugin NAME --kind KIND` writes a package that installs with pip, whose tests pass as
generated, and which changes nothing in a run that does not use it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.testing import cli as engine_cli

REPO = Path(__file__).resolve().parents[2]
KINDS = ["tracker", "backend", "section", "command"]
#: A run of the testing backend that logs, evaluates and checkpoints: what a plugin must leave alone.
PLAIN_SPEC = """\
[run]
name = "plain"
[loop]
max_steps = 8
log_every = 2
eval_every = "4 steps"
checkpoint_every = "4 steps"
[backend]
use = "testing"
"""


class Venv:
    """A throwaway virtual environment with engine installed, then the four generated plugins."""

    def __init__(self, root: Path):
        self.root = root
        self.python = root / "venv/bin/python"
        self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ENGINE_EXPECT_PLUGINS")}

    def run(self, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.python), *map(str, args)], capture_output=True, text=True, env=self.env,
                              cwd=cwd or self.root, check=False, timeout=600)

    def plain_run(self, name: str) -> dict[str, Any]:
        """What a user can observe of :data:`PLAIN_SPEC` run with ``engine run``."""
        (self.root / "plain.toml").write_text(PLAIN_SPEC)
        directory = self.root / name
        result = self.run("-m", "engine", "run", "plain.toml", "--run-dir", directory, "--quiet")
        assert result.returncode == 0, result.stderr
        summary = json.loads((directory / "summary.json").read_text())
        logged = [json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()]
        return {"files": sorted(str(p.relative_to(directory)) for p in directory.rglob("*")),
                "metrics": summary["metrics"], "logged": sorted({key for record in logged for key in record}),
                "stderr": result.stderr}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("new-plugin")
    for kind in KINDS:
        written = engine_cli("new-plugin", f"my-{kind}", "--kind", kind, "--dir", "out", cwd=root, in_process=True)
        assert written.code == 0, written
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    env = Venv(root)
    # setuptools too, so the plugins build without an isolated build environment each
    engine = env.run("-m", "pip", "install", "-q", f"{REPO}[test]", "setuptools>=70.1")
    assert engine.returncode == 0, engine.stderr
    before = env.plain_run("before")
    plugins = env.run("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                      *(root / "out" / f"engine-my-{kind}" for kind in KINDS))
    assert plugins.returncode == 0, plugins.stderr
    return {"env": env, "before": before, "after": env.plain_run("after"),
            "listed": env.run("-m", "engine", "plugins").stdout}


@pytest.mark.parametrize("kind", KINDS)
def test_a_generated_plugin_installs_and_its_tests_pass(venv, kind):
    assert f"my-{kind}  (engine-my-{kind} 0.1.0)" in venv["listed"]
    tests = venv["env"].run("-m", "pytest", "-q", "-p", "no:cacheprovider",
                            venv["env"].root / "out" / f"engine-my-{kind}" / "tests")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\b[2-9] passed", tests.stdout), tests.stdout


def test_installed_plugins_change_nothing_in_a_run_that_does_not_use_them(venv):
    before, after = venv["before"], venv["after"]
    assert after["files"] == before["files"]
    assert after["metrics"] == before["metrics"]
    assert after["logged"] == before["logged"]
    assert after["stderr"] == before["stderr"] == ""


@pytest.mark.parametrize("kind", KINDS)
def test_generated_code_imports_only_the_public_face(cli, tmp_path, kind):
    assert cli("new-plugin", "demo", "--kind", kind).code == 0
    files = [p for p in (tmp_path / "engine-demo").rglob("*.py")]
    imported = {m for p in files for m in re.findall(r"^\s*(?:from|import) (engine\S*)", p.read_text(), re.M)}
    core = {name for name in imported if not name.startswith("engine_demo.")}
    assert core <= {"engine", "engine.session", "engine.testing"}, core
    assert not [p for p in files if "_core" in p.read_text()]


@pytest.mark.parametrize("bad", ["Bad Name", "1st", "class"])
def test_invalid_names_are_refused(cli, bad):
    result = cli("new-plugin", bad)
    assert result.code == 2 and "invalid plugin name" in result.err


@pytest.mark.parametrize("reserved", ["tracker", "engine-backend"])
def test_a_component_kind_is_refused_as_a_plugin_name(cli, tmp_path, reserved):
    result = cli("new-plugin", reserved)
    assert result.code == 2 and "is a component kind" in result.err and "Traceback" not in result.err
    assert not list(tmp_path.glob("engine-*"))


@pytest.mark.parametrize(("kind", "name", "taken"), [("command", "run", "already a command"),
                                                    ("section", "loop", "core spec section")])
def test_a_name_the_core_gives_a_meaning_is_refused_for_that_kind(cli, tmp_path, kind, name, taken):
    result = cli("new-plugin", name, "--kind", kind)
    assert result.code == 2 and len(result.error_lines) == 1 and taken in result.err, result
    assert not list(tmp_path.glob("engine-*"))


def test_an_unknown_kind_is_refused(cli, tmp_path):
    result = cli("new-plugin", "demo", "--kind", "storage")
    assert result.code == 2 and "invalid choice: 'storage'" in result.err and "Traceback" not in result.err
    assert not list(tmp_path.glob("engine-*"))
