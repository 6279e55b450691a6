"""Checkpoint save time and loop stall: synchronous vs asynchronous, on local disk (the core's
storage) and on S3 over loopback (engine-fsspec + moto), for three kinds of participant state:

- ``bytes``: ~100 MB of bytes copied from a bytearray in ``state_dict`` (a fresh allocation);
- ``deferred bytes``: the same state as deferred bytes (a host buffer reused from one save to the
  next, turned into bytes in the background);
- ``torch``: an MLP of ~100 MB (float32) with AdamW after one step (~300 MB with exp_avg and
  exp_avg_sq), snapshotted as the torch backend does, both as engine-torch did before deferred
  state (safetensors bytes made in ``state_dict``) and as it does now (engine_torch.state:
  host buffers reused between saves, safetensors made in the background).

    python benchmarks/checkpointing.py [--mb 100] [--repeats 3]

The torch rows need engine-torch, the S3 rows engine-fsspec[s3] and moto[server]; rows whose
needs are missing are skipped. Writes benchmarks/results/checkpointing.md.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine._core.checkpoint.manager import CheckpointManager
from engine._core.checkpoint.storage import CheckpointStorage, LocalStorage, LocalStorageOptions


class BigState:
    """A participant whose state is ``mb`` megabytes of bytes, copied from a mutable buffer."""

    label = "bytes, copied in state_dict"

    def __init__(self, mb: int):
        self.buffer = bytearray(os.urandom(1 << 20) * mb)

    def state_dict(self) -> dict:
        return {"weights": bytes(self.buffer)}

    def load_state_dict(self, state: dict) -> None:
        self.buffer = bytearray(state["weights"])

    def advance(self) -> None:
        """The next step's state."""
        self.buffer[0] = (self.buffer[0] + 1) % 256


class HostCopy:
    """Deferred bytes: a private copy of the state that becomes bytes in the background."""

    def __init__(self, copy: bytearray):
        self.copy: bytearray | None = copy
        self.data: bytes | None = None

    def __bytes__(self) -> bytes:
        if self.data is None:
            assert self.copy is not None
            self.data, self.copy = bytes(self.copy), None
        return self.data


class DeferredBigState(BigState):
    """``BigState`` with deferred bytes: copied into a host buffer reused once the last save is written."""

    label = "deferred bytes, reused host buffer"

    def __init__(self, mb: int):
        super().__init__(mb)
        self.host = bytearray(len(self.buffer))
        self.last: HostCopy | None = None

    def state_dict(self) -> dict:
        free = self.last is None or self.last.data is not None
        host = self.host if free else bytearray(len(self.buffer))
        host[:] = self.buffer
        self.host, self.last = host, HostCopy(host)
        return {"weights": self.last}


class TorchState:
    """An MLP of about ``mb`` MB with AdamW after one step, snapshotted as the torch backend does.

    ``before``: as engine-torch did before deferred state, safetensors bytes made in ``state_dict``.
    """

    def __init__(self, mb: int, *, before: bool):
        import torch
        from engine_torch import state

        self.torch, self.state, self.before = torch, state, before
        self.label = ("torch MLP + AdamW, safetensors in state_dict (before)" if before
                      else "torch MLP + AdamW, engine_torch deferred snapshot (after)")
        torch.manual_seed(0)
        outer = 1024
        hidden = int(math.sqrt(outer * outer + mb * (1 << 20) / 4) - outer)  # hidden² + 2·outer·hidden
        self.module = torch.nn.Sequential(torch.nn.Linear(outer, hidden), torch.nn.ReLU(),
                                          torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                                          torch.nn.Linear(hidden, outer))
        self.optimizer = torch.optim.AdamW(self.module.parameters(), lr=1e-3)
        self.module(torch.randn(8, outer)).square().mean().backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.host = {"model": state.HostBuffers(), "optimizer": state.HostBuffers()}

    @property
    def megabytes(self) -> float:
        tensors = [*self.module.state_dict().values(), *self._optimizer_tensors().values()]
        return sum(t.numel() * t.element_size() for t in tensors) / (1 << 20)

    def state_dict(self) -> dict[str, Any]:
        if self.before:
            return {"model": self._eager(self.module.state_dict()),
                    "optimizer": self._eager(self._optimizer_tensors())}
        return {"model": self.state.tensors_to_bytes(self.module.state_dict(), self.host["model"]),
                "optimizer": self.state.optimizer_state(self.optimizer, self.host["optimizer"])}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.module.load_state_dict(self.state.tensors_from_bytes(saved["model"]))

    def advance(self) -> None:
        """The next step's state (cheaply: one weight changes)."""
        with self.torch.no_grad():
            next(self.module.parameters()).view(-1)[0] += 1

    def _eager(self, tensors: dict[str, Any]) -> bytes:
        import safetensors.torch

        return safetensors.torch.save(self.state.host_tensors(tensors))

    def _optimizer_tensors(self) -> dict[str, Any]:
        return {f"{index}.{key}": value for index, entries in self.optimizer.state_dict()["state"].items()
                for key, value in entries.items() if isinstance(value, self.torch.Tensor)}


def measure(manager: CheckpointManager, state: Any, repeats: int) -> tuple[float, float, float]:
    """(first loop stall, median loop stall, median save-to-commit time) in seconds."""
    stalls, totals = [], []
    for step in range(1, repeats + 1):
        start = time.perf_counter()
        manager.submit({"big": state}, step=step, epoch=0, metrics={})
        stalls.append(time.perf_counter() - start)
        results = manager.drain()
        totals.append(time.perf_counter() - start)
        assert all(type(r).__name__ == "CheckpointInfo" for r in results), results
        state.advance()
    for info in manager.committed(quiet=True):  # the next row starts from an empty storage
        manager.storage.delete(info.name)
    return stalls[0], statistics.median(stalls), statistics.median(totals)


def storages(tmp: Path) -> Iterator[tuple[str, Callable[[], CheckpointStorage]]]:
    yield "local disk (core, fsync)", lambda: LocalStorage(LocalStorageOptions(url=str(tmp / "local")))
    try:
        from engine_fsspec.options import FsspecStorageOptions
        from engine_fsspec.storage import FsspecStorage
        from engine_fsspec.testing import CREDENTIALS, S3Server
    except ImportError:
        print("engine-fsspec is not installed: no S3 rows", flush=True)
        return
    os.environ.update(CREDENTIALS)
    try:
        server = S3Server().start()
    except RuntimeError as exc:  # moto[server] missing
        print(f"no S3 rows: {exc}", flush=True)
        return
    try:
        server.create_bucket("bench")
        yield "S3 on loopback (moto)", lambda: FsspecStorage(FsspecStorageOptions(
            url="s3://bench/ck", filesystem={"endpoint_url": server.endpoint}))
    finally:
        server.close()


def participants(mb: int) -> Iterator[Any]:
    """Each kind of state, built when its rows run (so only one torch model is in memory)."""
    yield BigState(mb)
    yield DeferredBigState(mb)
    try:
        import engine_torch.state  # noqa: F401
    except ImportError:
        print("engine-torch is not installed: no torch rows", flush=True)
        return
    yield TorchState(mb, before=True)
    yield TorchState(mb, before=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    sizes: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for storage, make in storages(Path(directory)):
            for state in participants(args.mb):
                sizes[state.label] = getattr(state, "megabytes", args.mb)
                for asynchronous in (False, True):
                    manager = CheckpointManager(make(), asynchronous=asynchronous)
                    first, stall, total = measure(manager, state, args.repeats)
                    manager.close()
                    rows.append((state.label, storage, "async" if asynchronous else "sync", first, stall, total))
                    print(rows[-1], flush=True)
                del state
    write_results(rows, sizes, args.mb, args.repeats)


def write_results(rows: list[tuple[str, str, str, float, float, float]], sizes: dict[str, float],
                  mb: int, repeats: int) -> None:
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout
    lines = [
        "# Checkpointing: save time and loop stall",
        "",
        f"One participant per row, median of {repeats} saves (the first save's stall apart: it allocates "
        "host buffers). Produced by `python benchmarks/checkpointing.py`. "
        f"Machine: {cpu.split(':', 1)[-1].strip() or 'unknown'}, 2 cores shared with other engineers "
        "(numbers are noisy; compare rows of one run, not runs).",
        "",
        "| state | storage | mode | first stall (s) | loop stall (s) | save until committed (s) "
        "| stall / sync save |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    sync_total = {(label, storage): total for label, storage, mode, _, _, total in rows if mode == "sync"}
    for label, storage, mode, first, stall, total in rows:
        lines.append(f"| {label} ({sizes[label]:.0f} MB) | {storage} | {mode} | {first:.3f} | {stall:.3f} "
                     f"| {total:.3f} | {stall / sync_total[label, storage]:.1%} |")
    out = Path(__file__).parent / "results/checkpointing.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
