"""Activation and peak memory of a deep MLP with and without activation checkpointing, side by side.

    python benchmarks/memory.py                      # prints markdown; --output FILE writes it

One training step (forward, backward) of a residual MLP of ``--depth`` blocks (Linear →
LayerNorm → ReLU → Dropout) on a batch of ``--batch`` rows, with the blocks wrapped as the
torch backend wraps them for ``activation_checkpointing = ["Block"]``
(:func:`engine_torch.activation_checkpointing.apply`) and without.

Two figures per device, in the same step:

- *activations after the forward pass*: what the forward keeps for the backward (checkpointed
  blocks keep only their inputs);
- *peak of the step*: the most memory the step holds at once, weights and gradients included.

CPU: torch's ``MemTracker`` (``torch.distributed._tools.mem_tracker``) follows every tensor
allocated during the step. CUDA (when a GPU is visible): ``torch.cuda.memory_allocated`` and
``max_memory_allocated``, minus what was allocated before the step (the weights).

Times are the median of ``--repeats`` steps after one warm-up: the recomputation's price.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any

import torch
from engine_torch.activation_checkpointing import apply
from torch import nn


class Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(torch.relu(self.norm(self.linear(x))))


def deep_mlp(width: int, depth: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, width), *[Block(width) for _ in range(depth)], nn.Linear(width, 10))


def build(args: argparse.Namespace, checkpointed: bool, device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = deep_mlp(args.width, args.depth).to(device)
    if checkpointed:
        apply(model, ["Block"], "benchmark")
    return model, torch.randn(args.batch, args.width, device=device)


def step(model: nn.Module, x: torch.Tensor) -> None:
    model(x).square().mean().backward()


#: MemTracker's kinds of memory that both variants hold alike, whatever the activations.
HELD = ("Parameter", "Buffer", "Gradient")


def cpu_memory(args: argparse.Namespace, checkpointed: bool) -> tuple[int, int]:
    """Activations after the forward pass and the step's peak (bytes), by torch's MemTracker."""
    from torch.distributed._tools.mem_tracker import MemTracker

    cpu = torch.device("cpu")
    model, x = build(args, checkpointed, cpu)
    tracker = MemTracker()
    tracker.track_external(model)
    with tracker:
        loss = model(x).square().mean()
        after_forward = tracker.get_tracker_snapshot("current")[cpu]
        loss.backward()
    activations = sum(int(v) for kind, v in after_forward.items() if str(getattr(kind, "value", "")) == "Activation")
    return activations, int(tracker.get_tracker_snapshot("peak")[cpu]["Total"])


def cuda_memory(args: argparse.Namespace, checkpointed: bool) -> tuple[int, int]:
    """Activations after the forward pass and the step's peak (bytes) above the weights, on CUDA."""
    device = torch.device("cuda")
    model, x = build(args, checkpointed, device)
    step(model, x)  # warm-up: cuBLAS workspaces
    model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    loss = model(x).square().mean()
    torch.cuda.synchronize()
    activations = torch.cuda.memory_allocated() - base
    loss.backward()
    torch.cuda.synchronize()
    return activations, int(torch.cuda.max_memory_allocated()) - base


def seconds(args: argparse.Namespace, checkpointed: bool, device: torch.device) -> float:
    model, x = build(args, checkpointed, device)
    step(model, x)
    times = []
    for _ in range(args.repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step(model, x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mib(count: float) -> str:
    return f"{count / 2**20:,.1f} MiB"


def table(args: argparse.Namespace) -> str:
    torch.set_num_threads(args.threads)
    rows: list[tuple[str, Any, Any]] = []
    (act_plain, peak_plain), (act_ckpt, peak_ckpt) = cpu_memory(args, False), cpu_memory(args, True)
    rows.append(("CPU activations after the forward pass (MemTracker)", mib(act_plain), mib(act_ckpt)))
    rows.append(("CPU peak of the step, weights and gradients included", mib(peak_plain), mib(peak_ckpt)))
    cpu = torch.device("cpu")
    time_plain, time_ckpt = seconds(args, False, cpu), seconds(args, True, cpu)
    rows.append(("CPU step time (median)", f"{time_plain * 1e3:.1f} ms", f"{time_ckpt * 1e3:.1f} ms"))
    ratios = [f"CPU activations {act_ckpt / act_plain:.2f}x", f"CPU step peak {peak_ckpt / peak_plain:.2f}x",
              f"CPU step time {time_ckpt / time_plain:.2f}x"]
    if torch.cuda.is_available():
        (g_act_plain, g_peak_plain), (g_act_ckpt, g_peak_ckpt) = cuda_memory(args, False), cuda_memory(args, True)
        rows.append(("CUDA activations after the forward pass", mib(g_act_plain), mib(g_act_ckpt)))
        rows.append(("CUDA peak of the step above the weights (max allocated)", mib(g_peak_plain), mib(g_peak_ckpt)))
        gpu = torch.device("cuda")
        t_plain, t_ckpt = seconds(args, False, gpu), seconds(args, True, gpu)
        rows.append(("CUDA step time (median)", f"{t_plain * 1e3:.2f} ms", f"{t_ckpt * 1e3:.2f} ms"))
        ratios += [f"CUDA activations {g_act_ckpt / g_act_plain:.2f}x",
                   f"CUDA step peak {g_peak_ckpt / g_peak_plain:.2f}x", f"CUDA step time {t_ckpt / t_plain:.2f}x"]
    gpu_name = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    lines = [
        "# Activation checkpointing: activation and peak memory",
        "",
        f"Deep MLP: {args.depth} residual blocks of width {args.width}, batch {args.batch}, float32, "
        f"{args.threads} thread(s); torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, GPU: {gpu_name}. `python benchmarks/memory.py`.",
        "",
        "| | without | `activation_checkpointing = [\"Block\"]` |",
        "|---|---|---|",
        *[f"| {name} | {a} | {b} |" for name, a, b in rows],
        "",
        "Ratio (with / without): " + ", ".join(ratios) + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=24)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", help="write the markdown here (default: print it)")
    args = parser.parse_args()
    text = table(args)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
