"""Shared test helpers: run the ``engine`` CLI in a subprocess and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# As the CLI does for its working directory: import paths such as "examples.digits:MLP" resolve
# in tests that run a spec in-process.
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))


class CliResult:
    def __init__(self, completed: subprocess.CompletedProcess[str]):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("engine: error:")]

    def __repr__(self) -> str:
        return f"<exit {self.code}>\nstdout:\n{self.out}\nstderr:\n{self.err}"


def engine_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
    """Run ``python -m engine ARGS`` in ``cwd``."""
    environment = {**os.environ, "PYTHONPATH": str(cwd), **(env or {})}
    completed = subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=environment,
                               capture_output=True, text=True, timeout=timeout, check=False)
    return CliResult(completed)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``cli(*args)`` runs the engine CLI with the test's temporary directory as working directory."""
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
        return engine_cli(*args, cwd=tmp_path, env=env, timeout=timeout)
    return run


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MiB tmpfs at ``tmp_path/disk``, for a run to fill; skipped where mounting is not allowed."""
    import shutil

    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small disk to fill")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, check=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """In a tox plugin environment, fail unless exactly the expected engine plugins are installed.

    ``ENGINE_EXPECT_PLUGINS`` lists distribution names (comma-separated, may be empty);
    this proves that a plugin's tests pass with only that plugin and its needs installed.
    """
    expected = os.environ.get("ENGINE_EXPECT_PLUGINS")
    if expected is None:
        return
    from importlib import metadata

    installed = sorted({
        ep.dist.metadata["Name"] for ep in metadata.entry_points(group="engine") if ep.dist is not None
    })
    wanted = sorted(name for name in expected.split(",") if name)
    if installed != wanted:
        raise pytest.UsageError(f"engine plugins installed: {installed}; this environment expects {wanted}")
