"""``batch_size = "auto"``: the largest training batch whose step fits, found once before training.

Sizes double from 1 until a step no longer fits (or ``max_batch_size``, or the training set's
size, is reached), then bisect between the last that fit and the first that did not. Each
probe is one whole training step (forward, backward, optimizer step) of the run's own model,
loss and optimizer on the first rows of the training set:

- on CUDA a step fits when it does not run out of memory (and its peak allocation stays within
  ``max_memory`` when that is set);
- on CPU a step fits when its peak tensor memory, measured by torch's ``MemTracker`` (weights,
  gradients, optimizer state, activations, temporaries), stays within ``max_memory``.

The probes leave no trace: the model's weights and buffers are restored from a copy, the
gradients and the probe's optimizer are dropped, and every random generator is put back, so
the run is bit-identical to one started with the chosen ``batch_size``. The choice is
written into the run's ``spec.toml``; a resume reads it there and does not probe again.
"""

from __future__ import annotations

import gc
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from engine import EngineError
from engine_torch import state

#: One probe: the step's peak memory in bytes, or ``None`` when it ran out of memory.
Probe = Callable[[int], int | None]


def search(fits: Callable[[int], bool], upper: int) -> int:
    """The largest size in ``1..upper`` that ``fits``, by doubling then bisecting; 0 if none does."""
    good, size = 0, 1
    while size <= upper and fits(size):
        good, size = size, size * 2
    if good == upper:
        return good
    bad = size if size <= upper else upper + 1  # the first size that failed, or past the sizes tried
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return good


def recorded(run_dir: Path) -> int | None:
    """The batch size an earlier attempt of this run chose, from its ``spec.toml``, or ``None``."""
    try:
        spec = tomllib.loads((run_dir / "spec.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    size = spec.get("backend", {}).get("batch_size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None


def make_probe(module: torch.nn.Module, build_optimizer: Callable[[torch.nn.Module], torch.optim.Optimizer],
               forward: Callable[[Any], tuple[torch.Tensor, Any, Any]], fetch: Callable[[torch.Tensor], Any],
               prepare: Callable[[Any], Any], autocast: Callable[[], Any], device: torch.device) -> Probe:
    """A probe of one training step at a given size (see the module's docstring)."""

    def step(rows: int) -> None:
        optimizer = build_optimizer(module)
        batch = prepare(fetch(torch.arange(rows)))
        with autocast():
            loss = forward(batch)[0]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def probe(rows: int) -> int | None:
        saved_rng = state.rng_state()
        saved = {name: value.detach().to("cpu", copy=True) for name, value in module.state_dict().items()}
        try:
            if device.type == "cuda":
                return _cuda_peak(step, rows, device)
            return _cpu_peak(step, rows, module)
        finally:
            module.zero_grad(set_to_none=True)
            module.load_state_dict(saved)
            state.load_rng_state(saved_rng)
            gc.collect()

    return probe


def _cuda_peak(step: Callable[[int], None], rows: int, device: torch.device) -> int | None:
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    try:
        step(rows)
        torch.cuda.synchronize(device)
    except torch.cuda.OutOfMemoryError:
        return None
    finally:
        gc.collect()
        torch.cuda.empty_cache()
    return int(torch.cuda.max_memory_allocated(device))


def _cpu_peak(step: Callable[[int], None], rows: int, module: torch.nn.Module) -> int:
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    tracker.track_external(module)
    with tracker:
        step(rows)
    return int(tracker.get_tracker_snapshot("peak")[torch.device("cpu")]["Total"])


def choose(probe: Probe, *, upper: int, budget: int | None, where: str) -> tuple[int, int]:
    """The chosen size and its step's peak memory in bytes."""
    peaks: dict[int, int] = {}

    def fits(rows: int) -> bool:
        peak = probe(rows)
        if peak is None or (budget is not None and peak > budget):
            return False
        peaks[rows] = peak
        return True

    chosen = search(fits, upper)
    if chosen == 0:
        need = "runs out of memory" if budget is None else f"needs more than max_memory ({show_bytes(budget)})"
        raise EngineError(f"batch_size = \"auto\": a training step of one row {need}", where=where,
                          fix="raise max_memory, or lower the model's memory (activation_checkpointing, precision)")
    return chosen, peaks[chosen]


def show_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.2f} {unit}"
        count /= 1024
    return f"{count:.2f} TiB"
