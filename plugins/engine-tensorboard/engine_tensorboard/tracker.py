"""The ``tensorboard`` tracker: metrics as scalars, the spec as text, hparams, optional histograms.

Logging only appends to a list; events are serialized and written in one batch at
checkpoints, at the end, and every ``flush_secs`` (see :mod:`engine_tensorboard.records`),
so everything up to a checkpoint is on disk when it is committed. A resumed run writes a
fresh event file that opens with ``SessionLog.START`` at the first step after the
checkpoint, so TensorBoard drops whatever the interrupted process wrote past it: readers
see each step once, with no gap.

The core's tracker guard calls these methods on the main process only, and turns a
failure into one warning (or a failed run with ``strict = true``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeAlias

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import HistogramProto

from engine import CheckpointInfo, Run, redact
from engine.session import dump_toml
from engine_tensorboard import events
from engine_tensorboard.histograms import gradient_histograms, torch_model, weight_histograms
from engine_tensorboard.options import TensorBoardOptions
from engine_tensorboard.records import EventFile

THROUGHPUT_TAG = "perf/steps_per_sec"
SPEC_TAG = "spec"
_MAX_PENDING = 4096

#: A logged record kept until the next write: (step, wall time, metrics) or a ready event.
Pending: TypeAlias = tuple[int, float, dict[str, float]] | Event


class TensorBoardTracker:
    """Writes one TensorBoard run per engine run, into ``log_dir``."""

    def __init__(self, options: TensorBoardOptions):
        self.options = options
        self.writer: EventFile | None = None
        self.log_dir = ""
        self.pending: list[Pending] = []
        self.last_write = time.monotonic()
        self.rate_from: tuple[int, float] = (0, time.perf_counter())
        if options.histogram_every:
            # Instance attributes: the core forwards an event only to trackers that have it,
            # and the backend fires on_before_optimizer_step only if someone implements it,
            # so a run without histograms pays nothing per step.
            self.on_step = self._weight_histograms
            self.on_before_optimizer_step = self._gradient_histograms

    # ------------------------------------------------------------------ events

    def on_run_start(self, run: Run) -> None:
        self.log_dir = log_dir_of(run, self.options.log_dir)
        self.writer = EventFile(self.log_dir)
        self.rate_from = (run.step, time.perf_counter())
        self.pending.append(events.text(SPEC_TAG, _markdown_toml(dump_toml(redact(run.spec.raw)))))
        if self.options.hparams:
            values = events.flat_hparams(redact(run.spec.raw))
            self.pending.append(events.hparams_start(values, group=run.spec.run.name))

    def on_resume(self, run: Run, checkpoint: CheckpointInfo) -> None:
        # The spec and hparams are in the first process's files; this file restarts the steps.
        self.pending = [events.restart(checkpoint.step + 1)]
        self.rate_from = (checkpoint.step, time.perf_counter())
        self.write()

    def on_log(self, run: Run, metrics: dict[str, float], step: int) -> None:
        if "lr" in metrics or any(name.startswith("train/") for name in metrics):
            before, started = self.rate_from
            now = time.perf_counter()
            if step > before and now > started:
                metrics = {**metrics, THROUGHPUT_TAG: (step - before) / (now - started)}
                self.rate_from = (step, now)
        self.pending.append((step, time.time(), metrics))
        if len(self.pending) >= _MAX_PENDING or time.monotonic() - self.last_write >= self.options.flush_secs:
            self.write()

    def on_checkpoint(self, run: Run, checkpoint: CheckpointInfo) -> None:
        self.write()

    def on_exception(self, run: Run, exception: BaseException) -> None:
        self.write()

    def on_run_end(self, run: Run, status: str) -> None:
        if self.writer is None:
            return
        if self.options.hparams:
            self.pending.append(events.hparams_end(status))
        self.write()
        self.writer.close()
        self.writer = None

    # ------------------------------------------------------------------ writing

    def write(self) -> None:
        """Serialize the pending records into the event file and flush it."""
        writer = self.writer
        if writer is None:
            return
        pending, self.pending = self.pending, []
        writer.write(record if isinstance(record, Event) else events.scalars(*record) for record in pending)
        self.last_write = time.monotonic()

    def _weight_histograms(self, run: Run) -> None:
        """``weights/<param>`` after every ``histogram_every``-th step (``on_step``)."""
        self._histograms(run.step, run, weight_histograms)

    def _gradient_histograms(self, run: Run, optimizer: object) -> None:
        """``grads/<param>`` of every ``histogram_every``-th step, as the optimizer receives
        them (``on_before_optimizer_step``: step ``run.step + 1``, unscaled, not yet clipped)."""
        self._histograms(run.step + 1, run, gradient_histograms)

    def _histograms(self, step: int, run: Run,
                    histograms: Callable[[Any, int], list[tuple[str, HistogramProto]]]) -> None:
        every = self.options.histogram_every
        if not every or step % every:
            return
        model = torch_model(run.backend)
        if model is None:
            return
        for tag, proto in histograms(model, self.options.histogram_bins):
            self.pending.append(events.histogram(tag, step, proto))


def log_dir_of(run: Run, configured: str) -> str:
    """``<run dir>/tensorboard`` by default, else ``<log_dir>/<run name>`` (a local path or fsspec URL)."""
    if not configured:
        return str(run.dir / "tensorboard")
    name = run.spec.run.name + (f"-fold{run.fold[0]}" if run.fold else "")
    if "://" in configured:
        return f"{configured.rstrip('/')}/{name}"
    return os.path.join(configured, name)


def _markdown_toml(text: str) -> str:
    """TensorBoard renders text as Markdown: indent the TOML so it shows as a code block."""
    return "\n".join("    " + line for line in text.splitlines())
