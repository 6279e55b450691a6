"""Helpers for testing tabular backends through the real CLI (used by tests/xgboost, ...).

Nothing here imports pytest (a ``capfd`` argument is pytest's fixture of that name); scikit-learn
is needed only by :func:`write_breast_cancer`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SLOWDOWN_MODULE = "engine_test_slowdown"


def engine_cli(args: Sequence[str], cwd: Path, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m engine <args>`` in ``cwd``, capturing text output."""
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=_env())


def cli_in_process(args: Sequence[str], cwd: Path) -> int:
    """The CLI's ``main(args)`` run in this process from ``cwd`` (no interpreter start-up)."""
    from engine._core.cli.main import main

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        return main(list(args))
    finally:
        os.chdir(previous)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def write_slowdown_plugin(directory: Path, seconds: float) -> str:
    """A local plugin module that sleeps in every ``on_step``, so a test can kill a run mid-way."""
    (directory / f"{SLOWDOWN_MODULE}.py").write_text(
        "import time\nfrom engine import hookimpl\n\n\n"
        f"@hookimpl\ndef on_step(run):\n    time.sleep({seconds!r})\n")
    return SLOWDOWN_MODULE


def committed_steps(checkpoints: Path) -> list[int]:
    """Steps of the committed checkpoints (those with a manifest) in a local checkpoint folder."""
    if not checkpoints.is_dir():
        return []
    return sorted(json.loads((d / "MANIFEST.json").read_text())["step"]
                  for d in checkpoints.iterdir()
                  if d.name.startswith("step-") and (d / "MANIFEST.json").is_file())


def kill_after_checkpoint(args: Sequence[str], cwd: Path, checkpoints: Path, *, timeout: float = 60) -> int:
    """Start ``engine <args>``, SIGKILL it as soon as a checkpoint is committed; the step it had."""
    process = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=cwd, env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            steps = committed_steps(checkpoints)
            if steps:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return steps[-1]
            if process.poll() is not None:
                raise AssertionError(f"the run ended before a checkpoint (exit {process.returncode}): "
                                     f"{process.stderr.read() if process.stderr else ''}")
            time.sleep(0.005)
        raise AssertionError("no checkpoint was committed in time")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def write_breast_cancer(directory: Path, *, valid_rows: int = 114) -> tuple[Path, Path]:
    """``train.csv`` and ``valid.csv`` (label column ``label``) from scikit-learn's bundled data."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, valid = directory / "train.csv", directory / "valid.csv"
    frame.iloc[valid_rows:].to_csv(train, index=False)
    frame.iloc[:valid_rows].to_csv(valid, index=False)
    return train, valid


def resume_spec(backend: str, train: Path, valid: Path, params: dict[str, Any], **options: Any) -> dict[str, Any]:
    """100 rounds, evaluated every 10 and checkpointed every 20: the spec the resume tests kill."""
    return {
        "run": {"seed": 3},
        "loop": {"max_steps": 100, "eval_every": "10 steps", "checkpoint_every": "20 steps"},
        "checkpoint": {"storage_options": {"fsync": False}},  # a kill, not a power loss, is tested
        "backend": {"use": backend, "params": params, **options,
                    "data": {"train": str(train), "valid": str(valid)}},
    }


def interrupted_run(tmp_path: Path, run: dict[str, Any], capfd: Any) -> tuple[Path, str]:
    """Kill ``engine run`` (a subprocess) after its first checkpoint, then resume it with the CLI.

    ``capfd`` is pytest's fixture of that name; returns the run directory and the resume's stderr.
    """
    from engine.session import dump_toml

    run = {**run, "run": {**run["run"], "plugins": [write_slowdown_plugin(tmp_path, 0.005)]}}
    (tmp_path / "spec.toml").write_text(dump_toml(run))
    directory = tmp_path / "interrupted"
    args = ["run", "spec.toml", "--run-dir", str(directory), "--quiet"]
    killed_at = kill_after_checkpoint(args, tmp_path, directory / "checkpoints")
    assert killed_at < 100
    capfd.readouterr()
    status = cli_in_process([*args, "--resume"], tmp_path)
    stderr = capfd.readouterr().err
    assert status == 0, stderr
    return directory, stderr


def refused_by_check_and_run(spec: dict[str, Any], cwd: Path, capfd: Any, words: Sequence[str]) -> None:
    """``engine check`` and ``engine run`` of ``spec`` (written to ``cwd/spec.toml``) each exit 2 with
    one ``engine: error:`` line that holds every one of ``words``, no traceback, and write nothing."""
    from engine.session import dump_toml

    (cwd / "spec.toml").write_text(dump_toml(spec))
    for command in ("check", "run"):
        capfd.readouterr()
        status = cli_in_process([command, "spec.toml"], cwd)
        stderr = capfd.readouterr().err
        errors = [line for line in stderr.splitlines() if line.startswith("engine: error:")]
        assert status == 2 and len(errors) == 1 and "Traceback" not in stderr, stderr
        for word in words:
            assert word in errors[0], errors[0]
        assert sorted(p.name for p in cwd.iterdir()) == ["spec.toml"], f"{command} wrote files"


def passed_by_check_and_run(spec: dict[str, Any], cwd: Path, capfd: Any) -> None:
    """``engine check`` of ``spec`` (written to ``cwd/spec.toml``) and then ``engine run -q`` both exit 0."""
    from engine.session import dump_toml

    (cwd / "spec.toml").write_text(dump_toml(spec))
    assert cli_in_process(["check", "spec.toml"], cwd) == 0, capfd.readouterr().err
    assert cli_in_process(["run", "spec.toml", "-q"], cwd) == 0, capfd.readouterr().err


def refused_run_line(spec: dict[str, Any], cwd: Path, capfd: Any) -> str:
    """The one line on stderr of ``engine run`` of ``spec`` (written to ``cwd/spec.toml``) that must
    exit 2 without a traceback, before its run directory ``cwd/run`` exists."""
    from engine.session import dump_toml

    (cwd / "spec.toml").write_text(dump_toml(spec))
    capfd.readouterr()
    status = cli_in_process(["run", "spec.toml", "--run-dir", str(cwd / "run")], cwd)
    stderr = capfd.readouterr().err
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert not (cwd / "run").exists()  # a run that never started leaves nothing behind
    return lines[0]


def changed_csv(csv: Path, directory: Path, name: str, change: Callable[[Any], object]) -> str:
    """A copy of ``csv`` changed by ``change(frame)`` (a pandas DataFrame), written to
    ``directory / name``; returns ``name``."""
    import pandas as pd

    frame = pd.read_csv(csv)
    change(frame)
    frame.to_csv(directory / name, index=False)
    return name
