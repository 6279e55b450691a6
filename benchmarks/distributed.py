"""Time per optimizer step with 1 vs 2 processes (DDP, FSDP2) on CPU, the engine's own runs.

    python benchmarks/distributed.py                      # prints markdown; --output FILE writes it

Each variant is one ``engine run`` (2 processes: ``--nproc 2``, gloo on 127.0.0.1) of an MLP
(64 → hidden → hidden → 10, AdamW) on 8192 synthetic rows, global batch 128, one thread per
process. A small plugin times the window between two ``on_step`` events on rank 0, so start-up,
joining the processes, evaluation and the final checkpoint are outside it. Variants are
interleaved (each once per round) and the median round is reported, with the spread.

Variants:

- ``1 process``: no strategy.
- ``ddp x2``, ``fsdp x2``: 2 processes, each with half of every global batch.
- ``ddp x2, sync_every 1``: as ``ddp x2`` with an agreement all-reduce after every step
  (the default agrees every 16 steps and at cadence boundaries): the cost of that all-reduce.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VARIANTS: dict[str, tuple[int, dict[str, Any] | None]] = {
    "1 process": (1, None),
    "ddp x2": (2, {"use": "ddp"}),
    "fsdp x2": (2, {"use": "fsdp"}),
    "ddp x2, sync_every 1": (2, {"use": "ddp", "sync_every": 1}),
}

HELPERS = textwrap.dedent('''
    import json, os, time
    import torch
    from torch import nn
    from torch.utils.data import TensorDataset
    from engine import hookimpl

    class MLP(nn.Module):
        def __init__(self, hidden=256):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 10))
        def forward(self, x):
            return self.net(x)

    def data(rows=8192):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(rows, 64, generator=g)
        y = torch.randint(0, 10, (rows,), generator=g)
        return {"train": TensorDataset(x, y), "val": TensorDataset(x[:256], y[:256])}

    class Timer:
        def __init__(self):
            self.start = None
        @hookimpl
        def on_step(self, run):
            warmup = int(os.environ["BENCH_WARMUP"])
            if run.step == warmup:
                self.start = time.perf_counter()
            elif run.step == run.spec.loop.max_steps and run.is_main_process:
                seconds = time.perf_counter() - self.start
                (run.dir / "timing.json").write_text(json.dumps({"ms_per_step": 1000 * seconds / (run.step - warmup)}))

    @hookimpl
    def engine_run_plugins(run):
        return [("bench:timer", Timer())]
''')


def spec_text(name: str, strategy: dict[str, Any] | None, steps: int, hidden: int) -> str:
    lines = [
        "[run]", f'name = "{name}"', "seed = 0", 'plugins = ["bench_helpers"]',
        "[loop]", f"max_steps = {steps}", 'log_every = "50 steps"',
        "[backend]", 'use = "torch"', 'model = "bench_helpers:MLP"', f"model_args = {{ hidden = {hidden} }}",
        'data = "bench_helpers:data"', "batch_size = 128", 'optimizer = { use = "adamw", lr = 1e-3 }',
        'device = "cpu"', "threads = 1",
        "[checkpoint]", "on_exit = false",
    ]
    if strategy is not None:
        lines.append("[strategy]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in strategy.items()]
    return "\n".join(lines) + "\n"


def run_variant(work: Path, label: str, index: int, steps: int, warmup: int, hidden: int) -> float:
    nproc, strategy = VARIANTS[label]
    name = f"{label.replace(' ', '_').replace(',', '')}-{index}"
    spec = work / f"{name}.toml"
    spec.write_text(spec_text(name, strategy, steps, hidden))
    env = {**os.environ, "PYTHONPATH": str(work), "OMP_NUM_THREADS": "1", "BENCH_WARMUP": str(warmup)}
    command = [sys.executable, "-m", "engine", "run", str(spec), "-q", "--run-dir", str(work / "runs" / name)]
    if nproc > 1:
        command += ["--nproc", str(nproc)]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    timing = work / "runs" / name / "timing.json"
    if done.returncode != 0 or not timing.exists():
        raise SystemExit(f"{label} failed:\n{done.stderr}")
    return float(json.loads(timing.read_text())["ms_per_step"])


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")),
                     platform.processor())
    except OSError:
        model = platform.processor()
    return f"{model}, {os.cpu_count()} logical CPUs visible"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=330)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--output", metavar="FILE")
    args = parser.parse_args()
    import torch

    load_before = os.getloadavg()
    times: dict[str, list[float]] = {label: [] for label in VARIANTS}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="engine-bench-dist-") as tmp:
        work = Path(tmp)
        (work / "bench_helpers.py").write_text(HELPERS)
        for index in range(args.rounds):
            for label in VARIANTS:
                times[label].append(run_variant(work, label, index, args.steps, args.warmup, args.hidden))
    load_after = os.getloadavg()
    base = statistics.median(times["1 process"])
    rows = ["| variant | ms/step (median) | min – max over rounds | vs 1 process |", "|---|---|---|---|"]
    for label, values in times.items():
        median = statistics.median(values)
        rows.append(f"| {label} | {median:.2f} | {min(values):.2f} – {max(values):.2f} | {median / base:.2f}× |")
    text = "\n".join([
        "# Distributed: 1 vs 2 processes on CPU",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}, torch {torch.__version__}.",
        f"MLP 64→{args.hidden}→{args.hidden}→10, AdamW, global batch 128, 1 thread per process, "
        f"{args.steps - args.warmup} timed steps after {args.warmup}, {args.rounds} interleaved rounds; "
        f"{time.time() - started:.0f} s in all.",
        f"Load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}.",
        "",
        *rows,
        "",
        "Generated by `python benchmarks/distributed.py`.",
    ])
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
