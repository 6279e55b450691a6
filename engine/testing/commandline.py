"""Run the ``engine`` command line in a test: in a subprocess (as a user does) or in this process.

    from engine.testing import cli

    def test_check_refuses_a_typo(tmp_path):
        (tmp_path / "spec.toml").write_text('[backend]\\nuse = "testing"\\nlr = "fast"\\n')
        result = cli("check", "spec.toml", cwd=tmp_path)
        assert result.code == 2 and len(result.error_lines) == 1
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

import attrs

__all__ = ["CliResult", "cli"]


@attrs.frozen(repr=False)
class CliResult:
    """How one ``engine`` command ended: its exit status (negative: killed by that signal) and output."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """The ``engine: error: ...`` lines on stderr."""
        return [line for line in self.err.splitlines() if line.startswith("engine: error:")]

    def __repr__(self) -> str:
        return f"<exit {self.code}>\nstdout:\n{self.out}\nstderr:\n{self.err}"


def cli(*args: str, cwd: str | Path, env: Mapping[str, str] | None = None, in_process: bool = False,
        timeout: float = 300) -> CliResult:
    """``engine ARGS`` run from ``cwd``.

    By default ``python -m engine`` in a subprocess, with ``env`` added to this process's
    environment and ``cwd`` on ``PYTHONPATH`` (so local plugins and import paths in a spec resolve).
    ``in_process=True`` calls the CLI's entry point in this process instead (no interpreter
    start-up; ``env`` and ``timeout`` do not apply), capturing what it prints on ``sys.stdout``
    and ``sys.stderr``; the working directory and ``sys.path`` are restored afterwards.
    """
    if in_process:
        return _in_process(list(args), Path(cwd))
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(cwd).resolve()), environment.get("PYTHONPATH", "")]))
    completed = subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=environment,
                               capture_output=True, text=True, timeout=timeout, check=False)
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def _in_process(args: list[str], cwd: Path) -> CliResult:
    from engine._core.cli.main import main

    previous, path = os.getcwd(), list(sys.path)
    out, err = io.StringIO(), io.StringIO()
    os.chdir(cwd)
    try:
        with _native_output() as native, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's --help and usage errors
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        os.chdir(previous)
        sys.path[:] = path
    return CliResult(code, out.getvalue() + native[1], err.getvalue() + native[2])


@contextlib.contextmanager
def _native_output() -> Iterator[dict[int, str]]:
    """File descriptors 1 and 2 sent to temporary files while the block runs, so what a native
    library writes there is captured as a subprocess's output would be; the dict it yields
    holds that text by descriptor once the block has ended."""
    captured: dict[int, str] = {}
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        files: dict[int, IO[str]] = {1: stdout, 2: stderr}
        saved = {fd: os.dup(fd) for fd in files}
        try:
            for fd, file in files.items():
                os.dup2(file.fileno(), fd)
            yield captured
        finally:
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            for fd, file in files.items():
                file.seek(0)
                captured[fd] = file.read()
