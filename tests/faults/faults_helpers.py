"""Starting, killing and resuming engine runs, and reading what they ended with."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from engine_fsspec.testing import CREDENTIALS, S3Server

#: This folder: its helper modules (``faults_kill``, ``faults_data``) resolve in ``engine run``.
HERE = Path(__file__).resolve().parent

#: The ``[run]`` table of the backend fault tests' specs: run ``r``, seed 7, and the run plugin
#: ``faults_kill`` that kills or preempts it at step ``$FAULTS_KILL_AT``.
KILLED_RUN = """
[run]
name = "r"
seed = 7
plugins = ["faults_kill"]
"""


def start(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m engine ARGS`` in ``cwd``, with ``env`` added to this process's environment."""
    return subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **CREDENTIALS, "PYTHONPATH": os.pathsep.join([str(cwd), str(HERE)]),
                                 **(env or {})})


class StderrReader:
    """A running process's stderr, read in a thread: a test can wait for a line while it runs."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def finish(self, timeout: float) -> str:
        """Wait for the process to end; everything it wrote to stderr."""
        self.process.wait(timeout=timeout)
        self.thread.join(timeout=10)
        return self.text()


def s3_storage(s3: S3Server, bucket: str, prefix: str) -> str:
    """``[checkpoint]`` lines (the last section of a spec) that put checkpoints in ``s3://bucket/prefix``."""
    return (f'storage = "s3://{bucket}/{prefix}"\n[checkpoint.storage_options]\nbackoff = 0.1\n'
            f'[checkpoint.storage_options.filesystem]\nendpoint_url = "{s3.endpoint}"\n')


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 60) -> bool:
    """Poll ``condition`` while ``process`` runs; False if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting; stderr: {process.stderr.read() if process.stderr else ''}")


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate()


def measured(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics`` without what measures the machine rather than the training (``sys/*``: memory, speed)."""
    return {key: value for key, value in metrics.items() if not key.startswith("sys/")}


def metrics_log(run_dir: Path) -> list[dict[str, Any]]:
    """Every record of ``metrics.jsonl``, without its wall time and ``sys/*`` measurements."""
    path = run_dir / "metrics.jsonl"
    records = [measured(json.loads(line)) for line in path.read_text().splitlines()] if path.exists() else []
    for record in records:
        record.pop("time", None)
    return records


def final_state(run_dir: Path) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Final model, final metrics and the whole metrics log (without wall times)."""
    model = sorted((run_dir / "model").glob("final.*"))
    assert model, f"no final model in {run_dir}"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed", summary
    return [m.read_bytes() for m in model], measured(summary["metrics"]), metrics_log(run_dir)


def outcome(run_dir: Path) -> dict[str, Any]:
    """How a run ended, however it ended: every exported model's bytes (final and best), what
    the summary says (status, reason, steps, best, metrics) and the metrics log."""
    summary = json.loads((run_dir / "summary.json").read_text())
    models = {path.name: path.read_bytes() for path in sorted((run_dir / "model").glob("*"))}
    kept = {key: summary[key] for key in ("status", "reason", "steps", "best")}
    return {"models": models, "summary": {**kept, "metrics": measured(summary["metrics"])},
            "metrics": metrics_log(run_dir)}


class Checkpoints:
    """Committed and in-progress checkpoints of one run, on local disk or in an S3 bucket."""

    def __init__(self, run_dir: Path, s3: S3Server | None = None, bucket: str = "", prefix: str = ""):
        self.run_dir, self.s3, self.bucket, self.prefix = run_dir, s3, bucket, prefix

    def _s3_keys(self) -> list[str]:
        assert self.s3 is not None
        response = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        return [item["Key"] for item in response.get("Contents", [])]

    def committed(self) -> list[str]:
        if self.s3 is not None:
            return sorted(k.split("/")[-2] for k in self._s3_keys() if k.endswith("/MANIFEST.json"))
        folder = self.run_dir / "checkpoints"
        return sorted(p.parent.name for p in folder.glob("step-*/MANIFEST.json")) if folder.exists() else []

    def in_progress(self) -> set[str]:
        """Checkpoints half-written now (parts stored, manifest not yet), or left so by a kill."""
        if self.s3 is not None:
            keys = self._s3_keys()
            # checkpoint folders only: not objects beside them (the storage lock, .lock.json)
            folders = {k.split("/")[-2] for k in keys if "/" in k.removeprefix(self.prefix)}
            return {f for f in folders if f"{self.prefix}{f}/MANIFEST.json" not in keys}
        folder = self.run_dir / "checkpoints"
        return {p.name for p in folder.iterdir() if ".partial-" in p.name} if folder.exists() else set()

    def saving(self, ignore: Collection[str] = ()) -> bool:
        """Whether a checkpoint is half-written right now, other than those in ``ignore`` (left by
        an earlier kill: on local disk a killed process's partial folder stays)."""
        return bool(self.in_progress() - set(ignore))
