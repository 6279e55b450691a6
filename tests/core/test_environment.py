"""env.json records the whole environment, and ``engine env`` reads it back (core alone)."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import read_json

SPEC = """\
[run]
name = "demo"
seed = 7

[loop]
max_steps = 2

[backend]
use = "testing"

[checkpoint]
storage_options = { fsync = false }
"""
CV = "\n[cv]\nfolds = 2\n"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="no git on this machine")


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=folder,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


@needs_git
def test_env_json_records_distributions_python_machine_seeds_and_git(tmp_path, cli, monkeypatch):
    (tmp_path / "spec.toml").write_text(SPEC + CV)
    (tmp_path / "model.py").write_text("# the user's code\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "spec.toml", "model.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    commit = _git(tmp_path, "rev-parse", "HEAD")

    result = cli("run", "spec.toml", "--quiet", env={"PYTHONHASHSEED": "123"})
    assert result.code == 0, result
    env = read_json(tmp_path / "runs/demo/fold-1/env.json")
    # written as every JSON record of a run (its distributions are encoded once per process)
    text = (tmp_path / "runs/demo/fold-1/env.json").read_text()
    assert text == json.dumps(env, indent=2) + "\n" and list(env)[-1] == "distributions"
    # every installed distribution, as pip freeze sees it, not only engine's own requirements
    for name in ("pytest", "jsonschema", "pluggy"):
        assert env["distributions"][name]["version"] == metadata.version(name)
    assert env["distributions"]["engine"]["version"] == env["engine"] == metadata.version("engine")
    assert "editable" in env["distributions"]["engine"]  # the test environment installs it with -e
    assert env["python"] == platform.python_version()
    assert env["python_build"]["implementation"] == platform.python_implementation()
    assert env["python_build"]["compiler"] == platform.python_compiler()
    assert env["os"]["system"] == platform.system() and env["os"]["machine"] == platform.machine()
    assert env["cpu"]["logical"] == os.cpu_count() and env["cpu"]["usable"] >= 1
    assert env["seeds"] == {"run": 7, "fold": 1, "folds": 2}
    assert env["pythonhashseed"] == "123"
    # the run directories (untracked) do not make the work tree dirty
    assert env["git"]["commit"] == commit and env["git"]["dirty"] is False

    (tmp_path / "model.py").write_text("# changed, not committed\n")
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # tox sets one for its commands
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 0, result
    env = read_json(tmp_path / "runs/demo-2/fold-0/env.json")
    assert env["git"]["commit"] == commit and env["git"]["dirty"] is True
    assert env["pythonhashseed"] is None and env["seeds"] == {"run": 7, "fold": 0, "folds": 2}


def test_outside_a_git_work_tree_git_is_null_and_home_is_written_as_tilde(tmp_path, cli):
    (tmp_path / "spec.toml").write_text(SPEC)
    home = Path(sys.executable).parents[1]  # the interpreter's prefix stands in for a home folder
    result = cli("run", "spec.toml", "--quiet",
                 env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent), "HOME": str(home)})
    assert result.code == 0, result
    env = read_json(tmp_path / "runs/demo/env.json")
    assert env["git"] is None
    assert env["seeds"] == {"run": 7}
    assert env["python_build"]["executable"] == "~/" + Path(sys.executable).relative_to(home).as_posix()
    assert str(home) + os.sep not in (tmp_path / "runs/demo/env.json").read_text().replace("\\\\", "\\")


@pytest.mark.skipif(os.name == "nt", reason="the stand-in git is a shell script")
def test_git_runs_once_per_folder_per_process(tmp_path, cli):
    """Every fold (and every tuning trial) writes env.json; the git state is asked once."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "git-calls.log"
    fake = bin_dir / "git"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\necho '# branch.oid {'ab' * 20}'\n"
                    "echo '# branch.head main'\n")
    fake.chmod(0o755)
    (tmp_path / "spec.toml").write_text(SPEC + "\n[cv]\nfolds = 3\n")
    result = cli("run", "spec.toml", "--quiet", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert result.code == 0, result
    assert len(calls.read_text().splitlines()) == 1
    for fold in range(3):
        git = read_json(tmp_path / f"runs/demo/fold-{fold}/env.json")["git"]
        assert git == {"commit": "ab" * 20, "branch": "main", "dirty": False}


def test_a_plugin_adds_facts_and_a_failing_one_is_a_warning(tmp_path, cli):
    (tmp_path / "spec.toml").write_text(SPEC)
    (tmp_path / "facts.py").write_text(
        "def engine_environment():\n    return {'mylib': {'version': '1.2', 'device': 'tpu-v9'}}\n")
    (tmp_path / "broken.py").write_text("def engine_environment():\n    raise RuntimeError('no driver')\n")
    result = cli("-p", "facts", "run", "spec.toml", "--quiet")
    assert result.code == 0, result
    assert read_json(tmp_path / "runs/demo/env.json")["runtime"] == {"mylib": {"version": "1.2", "device": "tpu-v9"}}

    result = cli("-p", "broken", "run", "spec.toml", "--quiet")
    assert result.code == 0, result
    assert "engine: warning:" in result.err and "no driver" in result.err and "Traceback" not in result.err
    assert read_json(tmp_path / "runs/demo-2/env.json")["runtime"] == {}


def test_engine_env_writes_requirements_and_a_summary(tmp_path, cli):
    (tmp_path / "spec.toml").write_text(SPEC)
    assert cli("run", "spec.toml", "--quiet").code == 0

    result = cli("env", "runs/demo", "--requirements", "--output", "requirements.txt")
    assert result.code == 0, result
    lines = (tmp_path / "requirements.txt").read_text().splitlines()
    for name in ("pytest", "jsonschema", "pluggy", "attrs"):
        assert f"{name}=={metadata.version(name)}" in lines
    # an editable install is a comment naming its source folder, never a pin pip cannot resolve
    assert any(re.match(rf"# engine=={re.escape(metadata.version('engine'))}: editable install from \S", line)
               for line in lines)
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.-]*(==\S+| @ \S+)", line) for line in requirements), requirements
    assert not any(line.startswith(("engine==", "pip==")) for line in requirements)

    printed = cli("env", "runs/demo", "--requirements")
    assert printed.code == 0 and f"pytest=={metadata.version('pytest')}" in printed.out.splitlines()

    summary = cli("env", "runs/demo")
    assert summary.code == 0, summary
    rows = {line.split()[0]: line for line in summary.out.splitlines()}
    assert platform.python_version() in rows["python"] and "run.seed 7" in rows["seeds"]
    assert "PYTHONHASHSEED" in rows["seeds"] and "git" in rows and "distributions" in rows["packages"]


def _installed(folder: Path, name: str, direct_url: dict[str, object]) -> None:
    """A distribution's metadata as pip leaves it, on the run's ``sys.path``."""
    meta = folder / f"{name}-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (meta / "direct_url.json").write_text(json.dumps(direct_url))


def test_vcs_local_and_editable_installs_are_recorded_without_secrets_or_home(tmp_path, cli):
    (tmp_path / "spec.toml").write_text(SPEC)
    home = tmp_path / "home"
    _installed(tmp_path, "from_git", {"url": "https://user:s3cret-token@git.example.com/team/lib.git",
                                      "vcs_info": {"vcs": "git", "commit_id": "c0ffee"}})
    _installed(tmp_path, "from_wheel", {"url": (home / "wheels/from_wheel-1.0-py3-none-any.whl").as_uri(),
                                        "archive_info": {}})
    _installed(tmp_path, "mine", {"url": (home / "src/mine").as_uri(), "dir_info": {"editable": True}})
    result = cli("run", "spec.toml", "--quiet", env={"HOME": str(home)})
    assert result.code == 0, result
    text = (tmp_path / "runs/demo/env.json").read_text()
    assert "s3cret-token" not in text and str(home) not in text
    installed = json.loads(text)["distributions"]
    assert installed["from-git"] == {"version": "1.0", "url": "git+https://***@git.example.com/team/lib.git@c0ffee"}
    assert installed["from-wheel"] == {"version": "1.0", "path": "~/wheels/from_wheel-1.0-py3-none-any.whl"}
    assert installed["mine"] == {"version": "1.0", "editable": "~/src/mine"}

    result = cli("env", "runs/demo", "--requirements")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert "from-git @ git+https://***@git.example.com/team/lib.git@c0ffee" in lines
    assert "# mine==1.0: editable install from ~/src/mine (pip install -e ~/src/mine)" in lines
    assert any(line.startswith("# from-wheel==1.0: local install from ~/wheels/") for line in lines)
    assert cli("env", "runs/demo", "--requirements", "-o", "req.txt").code == 0
    assert (tmp_path / "req.txt").read_text() == result.out  # printed as written


@pytest.mark.parametrize("target, fix", [
    ("missing", "pass a run directory"),
    ("runs", "pass a run directory"),
    ("runs/cv", "pass one of its runs, such as runs/cv/fold-0"),
    ("runs/damaged", "rerun the run"),
])
def test_engine_env_refuses_what_is_not_a_run_directory(tmp_path, cli, target, fix):
    (tmp_path / "runs/cv/fold-0").mkdir(parents=True)
    (tmp_path / "runs/cv/fold-0/spec.toml").write_text(SPEC)
    (tmp_path / "runs/cv/fold-0/env.json").write_text("{}")
    (tmp_path / "runs/damaged").mkdir()
    (tmp_path / "runs/damaged/env.json").write_text('{"python": ')
    result = cli("env", target, "--requirements", "-o", "out.txt")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and fix in result.error_lines[0], result
    assert "Traceback" not in result.err and not (tmp_path / "out.txt").exists()
