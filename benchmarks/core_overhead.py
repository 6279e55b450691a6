"""Core overhead, side by side in one run: the loop's cost per step with 0, 5 and 20 plugins
implementing ``on_step``, and with epochs of one step (a boosting round is an epoch), against a
bare Python loop doing the same (no) work; and the wall
time of ``engine --help`` and ``engine plugins`` with whatever plugins are installed.

    python benchmarks/core_overhead.py [--output benchmarks/results/core.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import attrs

import engine
from engine.testing import run_spec

STEPS = 20_000
REPEATS = 5


@attrs.define
class NullOptions:
    steps_per_epoch: int = 1000


class NullBackend:
    """A backend whose step does nothing: what remains is the engine's own cost."""

    def __init__(self, options: NullOptions):
        self.options = options

    def setup(self, run: object) -> None:
        pass

    @property
    def steps_per_epoch(self) -> int:
        return self.options.steps_per_epoch

    def train_step(self, run: object) -> None:
        pass

    def train_metrics(self) -> dict[str, float]:
        return {"train/loss": 0.0}

    def evaluate(self, run: object) -> dict[str, float]:
        return {"val/loss": 0.0}

    def state_dict(self) -> dict[str, object]:
        return {}

    def load_state_dict(self, state: dict[str, object]) -> None:
        pass

    def export(self, directory: Path, tag: str) -> None:
        return None


class Provider:
    @engine.hookimpl
    def engine_register_components(self, registry):  # type: ignore[no-untyped-def]
        registry.add("backend", "null", NullBackend, options=NullOptions)


class OnStep:
    def __init__(self) -> None:
        self.count = 0

    @engine.hookimpl
    def on_step(self, run):  # type: ignore[no-untyped-def]
        self.count += 1


def bare_loop(steps: int) -> float:
    """The floor: a Python loop calling a no-op step function and counting."""
    backend = NullBackend(NullOptions())
    start = time.perf_counter()
    step = 0
    while step < steps:
        backend.train_step(None)
        step += 1
    return time.perf_counter() - start


def engine_loop(steps: int, plugins: int, directory: Path, steps_per_epoch: int = 1000) -> float:
    spec = {"loop": {"max_steps": steps, "eval_every": "never", "log_every": "never"},
            "checkpoint": {"on_exit": False}, "backend": {"use": "null", "steps_per_epoch": steps_per_epoch}}
    extra = [Provider(), *(OnStep() for _ in range(plugins))]
    timing: dict[str, float] = {}

    class Clock:
        @engine.hookimpl(tryfirst=True)
        def on_run_start(self, run):  # type: ignore[no-untyped-def]
            timing["start"] = time.perf_counter()

        @engine.hookimpl(tryfirst=True)
        def on_run_end(self, run, status):  # type: ignore[no-untyped-def]
            timing["end"] = time.perf_counter()

    result = run_spec(spec, directory, plugins=[*extra, Clock()])
    assert result.status == "completed", result
    return timing["end"] - timing["start"]


@attrs.frozen
class Startup:
    """Wall times (fastest and median run) and the median CPU time (user + system) of a command."""

    best: float
    median: float
    cpu: float

    def row(self, command: str) -> str:
        return f"| `{command}` | {self.best * 1000:.0f} ms | {self.median * 1000:.0f} ms | {self.cpu * 1000:.0f} ms |"


def startup(command: list[str], repeats: int = 2 * REPEATS) -> Startup:
    """Run ``command`` ``repeats`` times. CPU time comes from the children's resource usage, so
    it does not grow when other jobs compete for the cores, as wall time does."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return Startup(min(walls), statistics.median(walls), statistics.median(cpus))


def machine() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        floor = statistics.median(bare_loop(STEPS) for _ in range(REPEATS)) / STEPS
        for plugins, steps_per_epoch in ((0, 1000), (5, 1000), (20, 1000), (0, 1)):
            runs = [engine_loop(STEPS, plugins, Path(tmp) / f"{plugins}-{steps_per_epoch}-{i}", steps_per_epoch)
                    for i in range(REPEATS)]
            per_step = statistics.median(runs) / STEPS
            rows.append((plugins, steps_per_epoch, per_step, per_step - floor))
    installed = sorted({ep.dist.metadata["Name"] for ep in metadata.entry_points(group="engine") if ep.dist})
    engine_command = [sys.executable, "-m", "engine"]
    bare = startup([sys.executable, "-c", "pass"])
    help_time, plugins_time = startup([*engine_command, "--help"]), startup([*engine_command, "plugins"])
    load = os.getloadavg()[0]

    lines = [
        "## Core overhead",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}, engine {engine.__version__}. "
        f"Median of {REPEATS} runs of {STEPS} steps of a backend whose step does nothing, so the "
        "whole time is the engine's: loop, cadence checks and hook calls (the 4 per-run built-in "
        "plugins are registered too).",
        "",
        "| plugins implementing on_step | steps per epoch | µs per step | µs above a bare Python loop |",
        "|---:|---:|---:|---:|",
        *(f"| {n} | {epoch} | {t * 1e6:.2f} | {extra * 1e6:.2f} |" for n, epoch, t, extra in rows),
        "",
        f"Target: ≤ 10 µs per step with 5 plugins — {'met' if rows[1][2] <= 10e-6 else 'NOT met'}. "
        "With one step per epoch (a boosting round) and no epoch hook or epoch cadence, an epoch's "
        "end is only counted.",
        "",
        f"Start-up with plugins installed: {', '.join(installed) or 'none'}.",
        "",
        f"{2 * REPEATS} runs each; 1-minute load average {load:.1f} on {os.cpu_count()} CPUs. The fastest "
        "wall time is the least disturbed by other jobs; CPU time (user + system) does not grow "
        "with their load at all.",
        "",
        "| command | wall (fastest) | wall (median) | CPU (median) |",
        "|---|---:|---:|---:|",
        bare.row("python -c pass"),
        help_time.row("engine --help"),
        plugins_time.row("engine plugins"),
        "",
        f"Target: ≤ 300 ms — {'met' if max(help_time.best, plugins_time.best) <= 0.3 else 'NOT met'} "
        "(fastest wall time).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
