"""Built-in metrics log: every logged metric as one JSON line in ``metrics.jsonl``."""

from __future__ import annotations

import json
import math
import time
from typing import IO, TYPE_CHECKING, Any

from engine._core.hookspecs import hookimpl

if TYPE_CHECKING:
    from engine._core.checkpoint.manifest import CheckpointInfo
    from engine._core.run import Run



class MetricsLog:
    """Appends ``{"step", "epoch", "time", <metrics>}`` lines; a resume drops lines past the checkpoint."""

    def __init__(self, run: Run):
        from engine._core.rundir import METRICS_FILE

        self.path = run.dir / METRICS_FILE
        self.handle: IO[str] | None = None
        self.failing = False

    def _open(self) -> IO[str]:
        if self.handle is None:
            # line-buffered: every record is in the file before any later checkpoint commits
            self.handle = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        return self.handle

    @hookimpl
    def on_resume(self, run: Run, checkpoint: CheckpointInfo) -> None:
        """Forget what the interrupted process logged after the checkpoint it resumes from."""
        if not run.is_main_process or not self.path.exists():
            return
        kept = [line for line in self.path.read_text(encoding="utf-8").splitlines()
                if 0 <= _step_of(line) <= checkpoint.step]
        self.path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    @hookimpl
    def on_log(self, run: Run, metrics: dict[str, float], step: int) -> None:
        if not run.is_main_process:
            return
        record: dict[str, Any] = {"step": step, "epoch": run.epoch, "time": round(time.time(), 3)}
        for name, value in metrics.items():
            record[name] = value if math.isfinite(value) else repr(value)
        try:
            self._open().write(json.dumps(record) + "\n")
        except OSError as exc:  # a full disk: the file keeps what it buffered, and tries again
            self._failed(run, exc)
        else:
            self.failing = False

    @hookimpl
    def on_run_end(self, run: Run) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            try:
                handle.close()
            except OSError as exc:
                self._failed(run, exc)

    def _failed(self, run: Run, exc: OSError) -> None:
        """Apply ``checkpoint.on_error``, once until a write succeeds again."""
        if not self.failing:
            self.failing = True
            from engine._core.storage_policy import describe, write_failed

            write_failed(run, f"could not write to {self.path}: {describe(exc)}",
                         "records logged until it can be written again may be missing from it")


def _step_of(line: str) -> int:
    """The record's step; -1 for a line cut short by a kill."""
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return -1


def read_metrics(path: Any) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` file."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    return [("run:metrics-log", MetricsLog(run))]
