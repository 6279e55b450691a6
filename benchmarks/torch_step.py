"""Time per optimizer step: the engine's torch backend vs a hand-written loop vs the floor (vs Lightning).

    python benchmarks/torch_step.py                      # prints markdown; --output FILE writes it

Variants, on scikit-learn's digits (1437 training rows) with ``examples.digits:MLP`` and AdamW,
one thread (``torch.set_num_threads(1)``):

- ``engine``: ``engine run`` in-process with the torch backend (loop, pluggy hooks, built-in plugins,
  training loss collected every 10 steps); timed between two ``on_step`` events, so setup,
  evaluation and the final checkpoint are outside the window.
- ``hand-written``: ``for x, y in DataLoader(TensorDataset, shuffle=True)``: zero_grad, forward,
  cross entropy, backward, step.
- ``floor``: the same loop over batches sliced once before timing (no data loading at all).
- ``lightning``: a LightningModule and ``Trainer`` (no logger, checkpointing or progress bar),
  when ``lightning`` is importable; skipped otherwise.

Times are interleaved (every variant once per round) and the median round is reported.
Peak RSS is measured with each variant alone in its own subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CASES: dict[str, dict[str, int]] = {
    "small": {"hidden": 128, "batch": 64, "steps": 600, "warmup": 100},
    "large": {"hidden": 1024, "batch": 256, "steps": 150, "warmup": 30},
}
CHECKPOINT_ON_EXIT = os.environ.get("BENCH_CHECKPOINT", "1") == "1"
VARIANTS = ("engine", "hand-written", "floor", "lightning")


def _setup() -> None:
    import torch

    torch.set_num_threads(1)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def _data() -> Any:
    from examples.digits import datasets

    return datasets()["train"]


def time_engine(case: dict[str, int]) -> float:
    """Seconds per step of ``engine run`` between the warmup step and the last step."""
    from engine import hookimpl
    from engine.testing import run_spec

    marks: dict[int, float] = {}

    class Clock:
        @hookimpl
        def on_step(self, run: Any) -> None:
            if run.step in (case["warmup"], case["steps"]):
                marks[run.step] = time.perf_counter()

    spec = {
        "run": {"name": "bench", "seed": 0},
        "loop": {"max_steps": case["steps"], "eval_every": "1000000 steps", "log_every": "10 steps"},
        "checkpoint": {"on_exit": CHECKPOINT_ON_EXIT},
        "backend": {"use": "torch", "model": "examples.digits:MLP", "model_args": {"hidden": case["hidden"]},
                    "data": "examples.digits:datasets", "batch_size": case["batch"],
                    "optimizer": {"use": "adamw", "lr": 1e-3}, "device": "cpu", "threads": 1,
                    # one parameter group, as in the hand-written loops: the same optimizer work
                    "decay_bias_and_norm": True},
    }
    with tempfile.TemporaryDirectory() as tmp:
        result = run_spec(spec, Path(tmp) / "run", plugins=[Clock()])
    assert result.status == "completed", result.summary
    return (marks[case["steps"]] - marks[case["warmup"]]) / (case["steps"] - case["warmup"])


def _model(case: dict[str, int]) -> Any:
    import torch

    from examples.digits import MLP

    torch.manual_seed(0)
    model = MLP(hidden=case["hidden"])
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)


def time_hand_written(case: dict[str, int]) -> float:
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch.utils.data import DataLoader

    model, optimizer = _model(case)
    loader = DataLoader(_data(), batch_size=case["batch"], shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    step, start = 0, 0.0
    while step < case["steps"]:
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if step == case["warmup"]:
                start = time.perf_counter()
            if step == case["steps"]:
                break
    return (time.perf_counter() - start) / (case["steps"] - case["warmup"])


def time_floor(case: dict[str, int]) -> float:
    import torch.nn.functional as F  # noqa: N812

    model, optimizer = _model(case)
    x_all, y_all = _data().tensors
    batches = list(zip(x_all.split(case["batch"]), y_all.split(case["batch"]), strict=True))
    step, start = 0, 0.0
    while step < case["steps"]:
        for x, y in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if step == case["warmup"]:
                start = time.perf_counter()
            if step == case["steps"]:
                break
    return (time.perf_counter() - start) / (case["steps"] - case["warmup"])


def time_lightning(case: dict[str, int]) -> float:
    import lightning as L  # noqa: N812
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch.utils.data import DataLoader

    marks: dict[int, float] = {}

    class Module(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model, _ = _model(case)

        def training_step(self, batch: Any, index: int) -> Any:
            x, y = batch
            return F.cross_entropy(self.model(x), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.AdamW(self.parameters(), lr=1e-3)

        def on_train_batch_end(self, *args: Any) -> None:
            step = self.trainer.global_step
            if step in (case["warmup"], case["steps"]) and step not in marks:
                marks[step] = time.perf_counter()

    loader = DataLoader(_data(), batch_size=case["batch"], shuffle=True, generator=torch.Generator().manual_seed(0))
    trainer = L.Trainer(max_steps=case["steps"], accelerator="cpu", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Module(), loader)
    return (marks[case["steps"]] - marks[case["warmup"]]) / (case["steps"] - case["warmup"])


TIMERS: dict[str, Callable[[dict[str, int]], float]] = {
    "engine": time_engine, "hand-written": time_hand_written, "floor": time_floor, "lightning": time_lightning,
}


def lightning_available() -> bool:
    try:
        import lightning  # noqa: F401
    except ImportError:
        return False
    return True


def peak_rss_mib(variant: str, case: str, *, checkpoint: bool = True) -> float:
    """Peak resident memory of a fresh process running one variant once."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "BENCH_CHECKPOINT": "1" if checkpoint else "0"}
    out = subprocess.run([sys.executable, __file__, "--one", variant, case], capture_output=True, text=True,
                         check=True, cwd=REPO, env=env)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mib"])


def measure(rounds: int) -> dict[str, Any]:
    _setup()
    load_before = os.getloadavg()[0]
    variants = [v for v in VARIANTS if v != "lightning" or lightning_available()]
    results: dict[str, Any] = {}
    for case_name, case in CASES.items():
        times: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(rounds):
            for variant in variants:
                times[variant].append(TIMERS[variant](case))
        results[case_name] = {
            v: {"ms": statistics.median(t) * 1e3, "best": min(t) * 1e3,
                "spread": (max(t) - min(t)) / statistics.median(t),
                "rss": peak_rss_mib(v, case_name)}
            for v, t in times.items()
        }
        results[case_name]["engine"]["rss_no_checkpoint"] = peak_rss_mib("engine", case_name, checkpoint=False)
    return {"cases": results, "lightning": lightning_available(), "load": (load_before, os.getloadavg()[0])}


def markdown(measured: dict[str, Any], rounds: int) -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in _lscpu().splitlines() if "Model name" in line), "?")
    lines = ["# torch backend: time per optimizer step", "",
             "Produced by `python benchmarks/torch_step.py`. Digits MLP, AdamW, one thread, CPU.",
             f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, torch {torch.__version__}.",
             f"{rounds} interleaved rounds: *best* is the fastest round (least disturbed by other work), *median* "
             "the middle one; *spread* is (max − min) / median. "
             "Peak RSS: each variant alone in a fresh process.",
             f"1-minute load average of the machine before / after: {measured['load'][0]:.1f} / "
             f"{measured['load'][1]:.1f} (above the core count, other work competed for the CPU).", ""]
    for case_name, rows in measured["cases"].items():
        case = CASES[case_name]
        floor, floor_best = rows["floor"]["ms"], rows["floor"]["best"]
        lines += [f"## {case_name}: hidden {case['hidden']}, batch {case['batch']}, "
                  f"{case['steps'] - case['warmup']} timed steps", "",
                  "| variant | ms/step (best) | ratio to floor (best) | ms/step (median) | ratio (median) "
                  "| spread | peak RSS (MiB) |", "|---|---:|---:|---:|---:|---:|---:|"]
        for variant, row in rows.items():
            lines.append(f"| {variant} | {row['best']:.3f} | {row['best'] / floor_best:.3f} | {row['ms']:.3f} | "
                         f"{row['ms'] / floor:.2f} | {row['spread']:.0%} | {row['rss']:.1f} |")
        lines += ["", f"The engine writes a checkpoint when the run ends (model + optimizer serialised to "
                  f"safetensors bytes); without it (`[checkpoint] on_exit = false`) its peak RSS is "
                  f"{rows['engine']['rss_no_checkpoint']:.1f} MiB.", ""]
    if not measured["lightning"]:
        lines += ["Lightning is not installed here: its row is left out.", ""]
    return "\n".join(lines)


def _peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's, kept across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", help="write the markdown here (default: print it)")
    parser.add_argument("--one", nargs=2, metavar=("VARIANT", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _setup()
        variant, case = args.one
        seconds = TIMERS[variant](CASES[case])
        peak = _peak_rss_mib()
        print(json.dumps({"ms": seconds * 1e3, "peak_rss_mib": peak}))
        return
    text = markdown(measure(args.rounds), args.rounds)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
