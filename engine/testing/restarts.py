"""For tests of runs that are checkpointed, killed and run again: a small checkpointed spec, a
plugin that kills its own process at a chosen step (as a preempted or crashed job dies), the
summary a run directory ends with, and :func:`kill_and_resume`, which compares a run killed and
resumed with one that never stopped.

    from engine.testing import kill_and_resume
    from engine.testing.restarts import checkpointed_spec

    def test_resume_is_exact(tmp_path):
        runs = kill_and_resume(checkpointed_spec(), tmp_path, kill_at=3)
        assert runs.killed.code == -9 and runs.resumed.resumed_from == 2
        assert runs.resumed.summary["metrics"] == runs.uninterrupted.summary["metrics"]

Or by hand, through the CLI (the spec lists ``plugins = ["killer"]``):

    def test_resume_after_a_kill(cli, tmp_path):
        write_kill_plugin(tmp_path)
        assert cli("run", "spec.toml", "--quiet", env={"KILL_AT": "5"}).code == -9
        assert cli("run", "spec.toml", "--quiet", "--resume").code == 0
        assert read_summary(tmp_path / "runs/r")["status"] == "completed"
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal as signals
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from engine._core.errors import EXIT_SIGINT, EXIT_SIGTERM
from engine._core.execute import RunResult
from engine._core.spec.toml_text import dump_toml
from engine.session import read, run, structure
from engine.testing.commandline import CliResult, cli

__all__ = ["KILL_AT_PLUGIN", "KillAndResume", "Resumed", "checkpointed_spec", "kill_and_resume",
           "read_summary", "resume_after_kill", "write_kill_plugin"]

#: Source of :mod:`engine.testing.kill_at`, a run plugin that sends its own process
#: ``$KILL_SIGNAL`` (a name; SIGKILL when unset, SIGTERM for a preemption) at the end of step
#: ``$KILL_AT`` (unset or 0: never), for a test to write as a local plugin module.
KILL_AT_PLUGIN = Path(__file__).with_name("kill_at.py").read_text(encoding="utf-8")
_KILL_AT_MODULE = "engine.testing.kill_at"


_FOUR_STEPS = """
[loop]
max_steps = 4
eval_every = "never"
checkpoint_every = "2 steps"

[backend]
use = "testing"

[checkpoint]
"""


def checkpointed_spec(storage: str = "") -> str:
    """TOML of a four-step run of the testing backend that checkpoints at steps 2 and 4 and keeps
    the last only, in ``storage`` (a URL; empty: the run directory). Its ``[checkpoint]`` table
    comes last, so a test may add lines to it."""
    return _FOUR_STEPS + (f'storage = "{storage}"\n' if storage else "") + "keep_last = 1\n"


def write_kill_plugin(directory: Path, module: str = "killer") -> str:
    """``directory/<module>.py`` holding :data:`KILL_AT_PLUGIN`; returns the name for ``run.plugins``."""
    (directory / f"{module}.py").write_text(KILL_AT_PLUGIN)
    return module


def read_summary(run_dir: Path) -> dict[str, Any]:
    """The run's ``summary.json``."""
    return dict(json.loads((run_dir / "summary.json").read_text()))


@attrs.frozen
class Resumed:
    """A run killed at a step in a subprocess, then resumed with ``--resume`` in this process."""

    #: The killed ``engine run``: its ``code`` is ``-9`` after SIGKILL, 143 after SIGTERM.
    killed: CliResult
    #: The resumed run; ``resumed.resumed_from`` is the step of the checkpoint it went on from.
    resumed: RunResult
    #: What the resumed run printed on stderr (notices, ``engine: warning:`` lines).
    resumed_err: str


@attrs.frozen
class KillAndResume(Resumed):
    """:class:`Resumed`, and the same spec run once without a stop, for comparison."""

    uninterrupted: RunResult


def resume_after_kill(spec: str | Mapping[str, Any], run_dir: str | Path, *, kill_at: int,
                      signal: str = "SIGKILL", overrides: Sequence[str] = (), timeout: float = 300) -> Resumed:
    """Run ``spec`` (TOML text or a dict) with ``engine run`` in a subprocess that kills itself
    with ``signal`` (``"SIGKILL"``, or ``"SIGTERM"`` for a preemption) at the end of step
    ``kill_at``, then resume it in this process (:func:`engine.testing.run_spec` with
    ``resume=True``) in the same run directory ``run_dir``.

    The spec is written next to the run directory (``<run_dir>.toml``); the subprocess runs in
    this process's working directory, so relative paths in the spec mean the same in both.
    Raises ``AssertionError`` (with the subprocess's output) when the run ended otherwise than
    by that signal, e.g. because it finished before ``kill_at`` or failed.
    """
    run_dir = Path(run_dir).resolve()
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    spec_file = run_dir.with_name(f"{run_dir.name}.toml")
    spec_file.write_text(spec if isinstance(spec, str) else dump_toml(dict(spec)), encoding="utf-8")
    sets = [arg for override in overrides for arg in ("--set", override)]
    killed = cli("-p", _KILL_AT_MODULE, "run", str(spec_file), "--run-dir", str(run_dir), "--quiet", *sets,
                 cwd=os.getcwd(), env={"KILL_AT": str(kill_at), "KILL_SIGNAL": signal}, timeout=timeout)
    # SIGTERM and SIGINT stop a run at a step boundary (exit 143, 130); any other signal kills it.
    expected = {"SIGTERM": EXIT_SIGTERM, "SIGINT": EXIT_SIGINT}.get(signal, -getattr(signals, signal))
    if killed.code != expected:
        raise AssertionError(f"the run was not killed by {signal} at step {kill_at}: {killed}")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        resumed = _run(spec, run_dir, resume=True, overrides=overrides)
    return Resumed(killed, resumed, err.getvalue())


def kill_and_resume(spec: str | Mapping[str, Any], directory: str | Path, *, kill_at: int,
                    signal: str = "SIGKILL", overrides: Sequence[str] = (), timeout: float = 300) -> KillAndResume:
    """Run ``spec`` uninterrupted in ``directory/uninterrupted`` (in this process), and killed at
    step ``kill_at`` then resumed in ``directory/interrupted`` (:func:`resume_after_kill`), so a
    test can compare what both ended with: ``summary["metrics"]``, exported models, ...
    """
    directory = Path(directory)
    uninterrupted = _run(spec, directory / "uninterrupted", resume=False, overrides=overrides)
    interrupted = resume_after_kill(spec, directory / "interrupted", kill_at=kill_at, signal=signal,
                                    overrides=overrides, timeout=timeout)
    return KillAndResume(interrupted.killed, interrupted.resumed, interrupted.resumed_err, uninterrupted)


def _run(spec: str | Mapping[str, Any], run_dir: Path, *, resume: bool, overrides: Sequence[str]) -> RunResult:
    """:func:`engine.testing.run_spec` of the same spec, read from the TOML text the killed run read."""
    text = spec if isinstance(spec, str) else dump_toml(dict(spec))
    return run(structure(read(text=text, overrides=overrides)), resume=resume, run_dir=run_dir, console="quiet")
