"""TensorBoard tracker overhead, side by side in one run: time per step with ``log_every = 1``
and no tracker, against the same run with ``[[tracker]] use = "tensorboard"``.

Runs alternate (A B A B ...) so drift on a shared machine hits both; the figure is the median
over repeats of the CPU time of the process (every thread, user + system) from the first step to
the end of the run (the tracker's last write included). CPU time, unlike wall time, does not
grow while other jobs hold the cores, so small differences stay visible on a busy machine.
Backends: the core's ``testing`` backend at two step sizes and, when engine-torch
is installed, ``examples/digits_mlp.toml``.

    python benchmarks/tracking.py [--repeats 7] [--output benchmarks/results/tracking.md]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine import hookimpl
from engine._core.spec.toml_text import parse_toml
from engine.testing import run_spec

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # examples.digits resolves from the repository root


class StepClock:
    """CPU seconds of the process from the end of step 1 to the end of the run, after every other plugin."""

    def __init__(self) -> None:
        self.start = 0.0
        self.seconds = 0.0
        self.steps = 0

    @hookimpl
    def on_step(self, run: Any) -> None:
        if run.step == 1:
            self.start = time.process_time()

    @hookimpl(trylast=True)
    def on_run_end(self, run: Any) -> None:
        self.seconds = time.process_time() - self.start
        self.steps = run.step - 1


def per_step(spec: dict[str, Any], tracker: bool) -> float:
    spec = copy.deepcopy(spec)
    spec["tracker"] = [{"use": "tensorboard"}] if tracker else []
    clock = StepClock()
    with tempfile.TemporaryDirectory() as directory:
        result = run_spec(spec, Path(directory) / "run", plugins=[clock])
        assert result.status in ("completed", "stopped"), result.summary
        if tracker:
            assert (Path(directory) / "run" / "tensorboard").is_dir()
    return clock.seconds / clock.steps


def compare(name: str, spec: dict[str, Any], repeats: int) -> dict[str, Any]:
    per_step(spec, False), per_step(spec, True)  # warm up imports and caches
    base, tracked = [], []
    for _ in range(repeats):
        base.append(per_step(spec, False))
        tracked.append(per_step(spec, True))
    b, t = statistics.median(base), statistics.median(tracked)
    spread = (max(base) - min(base)) / b
    return {"name": name, "base_us": b * 1e6, "tracked_us": t * 1e6, "overhead_us": (t - b) * 1e6,
            "overhead_pct": 100 * (t - b) / b, "spread_pct": 100 * spread, "repeats": repeats}


def testing_spec(steps: int, **backend: Any) -> dict[str, Any]:
    return {"loop": {"max_steps": steps, "log_every": 1, "eval_every": "100 steps"},
            "backend": {"use": "testing", **backend}}


def digits_spec() -> dict[str, Any] | None:
    path = REPO / "examples" / "digits_mlp.toml"
    try:
        import engine_torch  # noqa: F401
    except ImportError:
        return None
    if not path.exists():
        return None
    spec = parse_toml(path.read_text(), str(path))
    spec["loop"].update({"log_every": 1, "max_epochs": 5})
    spec.pop("early_stop", None)
    return spec


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        name = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        name = platform.processor() or "unknown CPU"
    return f"{name}, {os.cpu_count()} CPUs visible, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    cases = [
        ("testing, tiny step (dim 4, batch 8)", testing_spec(3000)),
        ("testing, ~1 ms step (dim 64, batch 256)", testing_spec(1000, dim=64, batch_size=256, train_size=2048)),
    ]
    digits = digits_spec()
    if digits is not None:
        cases.append(("torch digits MLP (examples/digits_mlp.toml, 5 epochs)", digits))
    rows = [compare(name, spec, args.repeats if "torch" not in name else max(3, args.repeats // 2))
            for name, spec in cases]

    lines = [
        "# TensorBoard tracker overhead",
        "",
        f"Machine: {machine()}. Written by `python benchmarks/tracking.py` on {time.strftime('%Y-%m-%d')}.",
        "",
        "CPU time of the process per step with `log_every = 1`, no tracker vs `[[tracker]] use = \"tensorboard\"`;",
        "runs alternate, medians over repeats; *spread* is (max - min) / median of the no-tracker runs, a",
        f"measure of noise. 1-minute load average at the end: {os.getloadavg()[0]:.1f}.",
        "",
        "| backend | no tracker (CPU µs/step) | tensorboard (CPU µs/step) | overhead (µs/step) | overhead "
        "| spread | repeats |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['name']} | {r['base_us']:.1f} | {r['tracked_us']:.1f} | {r['overhead_us']:+.1f} | "
                     f"{r['overhead_pct']:+.1f}% | {r['spread_pct']:.1f}% | {r['repeats']} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
