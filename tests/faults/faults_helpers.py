"""Starting, killing and resuming engine runs, and reading what they ended with."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine_fsspec.testing import CREDENTIALS, S3Server


def start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **CREDENTIALS, "PYTHONPATH": str(cwd)})


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


def final_state(run_dir: Path) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Final model, final metrics and the whole metrics log (without wall times)."""
    model = sorted((run_dir / "model").glob("final.*"))
    assert model, f"no final model in {run_dir}"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed", summary
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for record in metrics:
        record.pop("time", None)
    return [m.read_bytes() for m in model], summary["metrics"], metrics


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

    def saving(self) -> bool:
        """Whether a checkpoint is half-written right now (parts stored, manifest not yet)."""
        if self.s3 is not None:
            keys = self._s3_keys()
            folders = {k.split("/")[-2] for k in keys}
            return any(f"{self.prefix}{f}/MANIFEST.json" not in keys for f in folders)
        folder = self.run_dir / "checkpoints"
        return folder.exists() and any(".partial-" in p.name for p in folder.iterdir())
