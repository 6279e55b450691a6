"""Checkpoint save time and loop stall for a ~100 MB state: synchronous vs asynchronous,
on local disk (the core's storage) and on S3 over loopback (engine-fsspec + moto).

    python benchmarks/checkpointing.py [--mb 100] [--repeats 3]

Needs engine-fsspec[s3] and moto[server] for the S3 rows. Writes benchmarks/results/checkpointing.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from engine.checkpoint.manager import CheckpointManager
from engine.checkpoint.storage import LocalStorage, LocalStorageOptions


class BigState:
    """A participant whose state is ``mb`` megabytes of bytes, copied from a mutable buffer."""

    def __init__(self, mb: int):
        self.buffer = bytearray(os.urandom(1 << 20) * mb)

    def state_dict(self) -> dict:
        return {"weights": bytes(self.buffer)}

    def load_state_dict(self, state: dict) -> None:
        self.buffer = bytearray(state["weights"])


def measure(manager: CheckpointManager, state: BigState, repeats: int) -> tuple[float, float]:
    """(median loop stall, median save-to-commit time) in seconds."""
    stalls, totals = [], []
    for step in range(1, repeats + 1):
        start = time.perf_counter()
        manager.submit({"big": state}, step=step, epoch=0, metrics={})
        stalls.append(time.perf_counter() - start)
        results = manager.drain()
        totals.append(time.perf_counter() - start)
        assert all(type(r).__name__ == "CheckpointInfo" for r in results), results
        state.buffer[0] = (state.buffer[0] + 1) % 256  # the next step's state
    return statistics.median(stalls), statistics.median(totals)


def storages(tmp: Path):
    yield "local disk (core, fsync)", lambda: LocalStorage(LocalStorageOptions(url=str(tmp / "local")))
    try:
        from engine_fsspec.options import FsspecStorageOptions
        from engine_fsspec.storage import FsspecStorage
        from engine_fsspec.testing import CREDENTIALS, S3Server
    except ImportError:
        return
    os.environ.update(CREDENTIALS)
    server = S3Server().start()
    try:
        server.create_bucket("bench")
        yield "S3 on loopback (moto)", lambda: FsspecStorage(FsspecStorageOptions(
            url="s3://bench/ck", filesystem={"endpoint_url": server.endpoint}))
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    state = BigState(args.mb)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for name, make in storages(Path(directory)):
            for asynchronous in (False, True):
                manager = CheckpointManager(make(), asynchronous=asynchronous)
                stall, total = measure(manager, state, args.repeats)
                manager.close()
                rows.append((name, "async" if asynchronous else "sync", stall, total))
                print(rows[-1], flush=True)
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout
    lines = [
        "# Checkpointing: save time and loop stall",
        "",
        f"State: {args.mb} MB of bytes (one participant, copied from a bytearray in `state_dict`), "
        f"median of {args.repeats} saves. Produced by `python benchmarks/checkpointing.py`.",
        f"Machine: {cpu.split(':', 1)[-1].strip() or 'unknown'}, 2 cores shared with other engineers "
        "(numbers are noisy; compare rows of one run, not runs).",
        "",
        "| storage | mode | loop stall (s) | save until committed (s) | stall / sync save |",
        "|---|---|---:|---:|---:|",
    ]
    sync_total = {name: total for name, mode, _, total in rows if mode == "sync"}
    for name, mode, stall, total in rows:
        lines.append(f"| {name} | {mode} | {stall:.3f} | {total:.3f} | {stall / sync_total[name]:.1%} |")
    out = Path(__file__).parent / "results/checkpointing.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
