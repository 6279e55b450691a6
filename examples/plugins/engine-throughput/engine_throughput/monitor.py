"""The per-run monitor: steps between two clock readings, every ``every`` steps."""

from __future__ import annotations

import time
from typing import Any

import engine


class ThroughputMonitor:
    """Logs ``perf/steps_per_sec`` (and ``perf/samples_per_sec`` when the backend has a batch size)."""

    def __init__(self, options: Any):
        self.every = options.every
        self.window_start = time.perf_counter()
        self.window_steps = 0

    @engine.hookimpl
    def on_run_start(self, run: Any) -> None:
        self.window_start, self.window_steps = time.perf_counter(), 0

    @engine.hookimpl
    def on_resume(self, run: Any) -> None:
        self.window_start, self.window_steps = time.perf_counter(), 0

    @engine.hookimpl
    def on_step(self, run: Any) -> None:
        self.window_steps += 1
        if run.step % self.every:
            return
        now = time.perf_counter()
        rate = self.window_steps / max(now - self.window_start, 1e-9)
        metrics = {"perf/steps_per_sec": rate}
        batch_size = getattr(getattr(run.backend, "options", None), "batch_size", None)
        if isinstance(batch_size, int):
            metrics["perf/samples_per_sec"] = rate * batch_size
        run.log(metrics)
        self.window_start, self.window_steps = now, 0
