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

    python benchmarks/distributed.py --save-memory        # rank 0's peak host memory in an FSDP save

``--save-memory`` measures instead how much host memory rank 0 adds during one FSDP checkpoint
save, with 4 processes (so the full state is 4 shards): the former path (every process's DCP
files gathered to rank 0, which writes them: ``sharded_files.save_gathered``) against the
current one (every process stores its own shard; rank 0 gathers names, sizes and checksums).
Each save is the engine's own: the FSDP strategy's ``sharded_files`` under a
``CheckpointManager`` writing to a local directory, in a fresh ``torchrun`` of 4 processes.
Rank 0 samples its resident set (``/proc/self/statm``) every millisecond around the save, and
tracemalloc's peak of Python allocations (where the gathered bytes live).

    python benchmarks/distributed.py --recovery           # time to recover from a killed worker

``--recovery`` runs ``engine run --nproc 2 --max-restarts 1`` (DDP) and SIGKILLs rank 1 after
a chosen step: the recovery time is from the kill to the restarted group's first trained step
(torchrun noticing the death, stopping rank 0, starting 2 new processes, joining them, loading
the newest checkpoint), next to a fresh start (command to first step) of the same run.
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

RECOVERY_HELPERS = textwrap.dedent('''
    import json, os, signal, time
    from pathlib import Path
    from engine import hookimpl

    OUT = Path(os.environ["BENCH_OUT"])

    @hookimpl
    def on_step(run):
        attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        if not run.is_main_process and attempt == 0 and run.step == int(os.environ["BENCH_KILL_AT"]):
            (OUT / "killed.json").write_text(json.dumps({"at": time.time(), "step": run.step}))
            os.kill(os.getpid(), signal.SIGKILL)
        if run.is_main_process and not (OUT / f"first-{attempt}.json").exists():
            (OUT / f"first-{attempt}.json").write_text(json.dumps({"at": time.time(), "step": run.step}))
''')


def recovery_once(work: Path, index: int, kill_at: int, hidden: int) -> dict[str, float]:
    """One run killed once: seconds from the kill to the restarted group's first step, and a
    fresh start's seconds from the command to its first step."""
    out = work / f"recovery-{index}"
    out.mkdir()
    spec = work / f"recovery-{index}.toml"
    text = spec_text(f"recovery-{index}", {"use": "ddp"}, kill_at + 20, hidden)
    text = text.replace('plugins = ["bench_helpers"]', 'plugins = ["bench_recovery"]')
    spec.write_text(text.replace('log_every = "50 steps"', 'log_every = "50 steps"\ncheckpoint_every = "10 steps"'))
    env = {**os.environ, "PYTHONPATH": str(work), "OMP_NUM_THREADS": "1", "BENCH_OUT": str(out),
           "BENCH_KILL_AT": str(kill_at)}
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "engine", "run", str(spec), "-q", "--nproc", "2",
                           "--max-restarts", "1", "--run-dir", str(work / "runs" / f"recovery-{index}")],
                          cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the recovery run failed:\n{done.stderr[-4000:]}")
    killed = json.loads((out / "killed.json").read_text())
    first, again = (json.loads((out / f"first-{n}.json").read_text()) for n in (0, 1))
    return {"recovery": again["at"] - killed["at"], "start": first["at"] - started,
            "resumed_at": again["step"], "killed_at": killed["step"]}


def recovery_report(rounds: int, hidden: int, kill_at: int = 25) -> str:
    import torch

    started = time.time()
    with tempfile.TemporaryDirectory(prefix="engine-bench-recovery-") as tmp:
        work = Path(tmp)
        (work / "bench_helpers.py").write_text(HELPERS)
        (work / "bench_recovery.py").write_text(RECOVERY_HELPERS)
        results = [recovery_once(work, index, kill_at, hidden) for index in range(rounds)]
    recovery = [r["recovery"] for r in results]
    start = [r["start"] for r in results]
    resumed = results[0]["resumed_at"]
    return "\n".join([
        "## Recovering from a killed worker (elastic restart)",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}, torch {torch.__version__}.",
        f"`engine run --nproc 2 --max-restarts 1`, DDP, MLP 64→{hidden}→{hidden}→10, a checkpoint every 10 "
        f"steps; rank 1 SIGKILLed after step {kill_at}, the group resumes from step {int(resumed) - 1}'s "
        f"checkpoint. {rounds} runs; {time.time() - started:.0f} s in all.",
        "",
        "| | seconds (median) | min – max |",
        "|---|---|---|",
        f"| kill → first step of the restarted group | {statistics.median(recovery):.2f} | "
        f"{min(recovery):.2f} – {max(recovery):.2f} |",
        f"| fresh start: command → first step | {statistics.median(start):.2f} | "
        f"{min(start):.2f} – {max(start):.2f} |",
        "",
        "Generated by `python benchmarks/distributed.py --recovery`.",
    ])


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


SAVE_SCRIPT = textwrap.dedent('''
    import json, os, sys, threading, time, tracemalloc
    from pathlib import Path
    import torch, torch.distributed as dist
    from torch import nn
    from torch.distributed.checkpoint.state_dict import get_state_dict
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from engine._core.checkpoint.manager import CheckpointManager
    from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions
    from engine_distributed import sharded_files

    mode, hidden, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    mesh = init_device_mesh("cpu", (world,))
    for child in model.children():
        if any(True for _ in child.parameters()):
            fully_shard(child, mesh=mesh)
    fully_shard(model, mesh=mesh)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(8, 64)).sum().backward()
    optimizer.step()
    save = sharded_files.save_gathered if mode == "gathered" else sharded_files.save

    class Sharded:
        def state_dict(self):
            model_state, optimizer_state = get_state_dict(model, optimizer)
            return {"sharded": save({"model": model_state, "optimizer": optimizer_state})}

        def load_state_dict(self, state):
            pass

    manager = CheckpointManager(LocalStorage(LocalStorageOptions(url=str(out / "ckpt"))))
    page = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    peak, sampling = [0], [True]

    def sample():
        while sampling[0]:
            peak[0] = max(peak[0], rss())
            time.sleep(0.001)

    dist.barrier()
    before = rss()
    tracemalloc.start()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if rank == 0:
        info = manager.save({"backend": Sharded()}, step=1, epoch=0, metrics={})
    else:
        manager.snapshot({"backend": Sharded()}, step=1)
    sampling[0] = False
    sampler.join()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dist.barrier()
    if rank == 0:
        shard = max([entry["size"] for file, entry in info.parts.items() if file.endswith(".distcp")], default=0)
        full = sum(entry["size"] for entry in {**info.files, **info.parts}.values())
        (out / "result.json").write_text(json.dumps({"rss": max(peak[0], rss()) - before, "traced": traced,
                                                    "shard": shard, "full": full}))
    dist.destroy_process_group()
''')


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def save_memory(work: Path, mode: str, index: int, hidden: int) -> dict[str, int]:
    """One FSDP save by 4 fresh processes; rank 0's memory added during it."""
    out = work / f"{mode}-{index}"
    out.mkdir()
    (work / "save_memory.py").write_text(SAVE_SCRIPT)
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=4",
               "--master-addr=127.0.0.1", f"--master-port={free_port()}", str(work / "save_memory.py"),
               mode, str(hidden), str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {mode} save failed:\n{done.stderr[-4000:]}")
    return json.loads((out / "result.json").read_text())  # type: ignore[no-any-return]


def save_memory_report(rounds: int, hidden: int) -> str:
    import torch

    results: dict[str, list[dict[str, int]]] = {"gathered": [], "parts": []}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="engine-bench-save-") as tmp:
        for index in range(rounds):
            for mode in results:
                results[mode].append(save_memory(Path(tmp), mode, index, hidden))
    mib = 1 << 20
    full = results["parts"][0]["full"] / mib
    shard = results["parts"][0]["shard"] / mib
    labels = {"gathered": "before: shards gathered to rank 0", "parts": "after: every rank stores its own"}
    rows = ["| FSDP save, 4 processes | rank 0 peak RSS added, MiB (median) | min – max | "
            "tracemalloc peak, MiB (median) |", "|---|---|---|---|"]
    for mode, values in results.items():
        added = [v["rss"] / mib for v in values]
        traced = [v["traced"] / mib for v in values]
        rows.append(f"| {labels[mode]} | {statistics.median(added):.1f} | {min(added):.1f} – {max(added):.1f} "
                    f"| {statistics.median(traced):.1f} |")
    return "\n".join([
        "## FSDP save: rank 0's peak host memory",
        "",
        f"Machine: {machine()}; Python {platform.python_version()}, torch {torch.__version__}.",
        f"MLP 64→{hidden}→{hidden}→{hidden}→10 and its AdamW state, FSDP2 over 4 processes (gloo, CPU): "
        f"full checkpoint {full:.1f} MiB, one rank's shard file {shard:.1f} MiB. "
        f"{rounds} interleaved rounds, each save in 4 fresh processes; {time.time() - started:.0f} s in all.",
        "",
        *rows,
        "",
        "Generated by `python benchmarks/distributed.py --save-memory`.",
    ])


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
    parser.add_argument("--save-memory", action="store_true",
                        help="measure rank 0's peak host memory in an FSDP save instead (hidden 2048 by default)")
    parser.add_argument("--recovery", action="store_true",
                        help="measure the time to recover from a killed worker instead")
    args = parser.parse_args()
    if args.recovery:
        text = recovery_report(args.rounds, args.hidden)
        if args.output:
            Path(args.output).write_text(text + "\n")
        print(text)
        return
    if args.save_memory:
        text = save_memory_report(args.rounds, 2048 if args.hidden == 256 else args.hidden)
        if args.output:
            Path(args.output).write_text(text + "\n")
        print(text)
        return
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
