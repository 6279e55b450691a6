"""Built-in console: a progress bar on a terminal, plain periodic lines otherwise, a final table."""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any

from engine._core.hookspecs import hookimpl

if TYPE_CHECKING:
    from engine._core.checkpoint.manifest import CheckpointInfo
    from engine._core.run import Run


PLAIN_INTERVAL = 10.0
BAR_INTERVAL = 0.1


class Console:
    """Shows progress (step, epoch, throughput, last loss, ETA) and the final summary."""

    def __init__(self, run: Run, mode: str):
        self.mode = mode
        self.progress: Any = None
        self.task: Any = None
        self.last_draw = 0.0
        self.last_line = 0.0
        self.first_step = 0
        self.started = time.monotonic()

    @hookimpl
    def on_run_start(self, run: Run) -> None:
        if self.mode == "quiet" or not run.is_main_process:
            self.mode = "quiet"
            return
        self._line(f"run {run.spec.run.name!r} → {run.dir}")
        if self.mode == "bar":
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            total = run.step_limit
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(),
                TextColumn("{task.completed}/{task.total} steps"), TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(), transient=True, console=_rich_console(),
            )
            self.task = self.progress.add_task(
                "training", total=None if math.isinf(total) else int(total), info="")
            self.progress.start()

    @hookimpl
    def on_resume(self, run: Run, checkpoint: CheckpointInfo) -> None:
        self.first_step = run.step
        self.started = time.monotonic()
        self._line(f"resumed from {checkpoint.url} at step {run.step}, epoch {run.epoch}")

    def _redraw_bar(self, run: Run) -> None:
        """Redraw the bar at most every 0.1 s (called from ``on_step`` only in bar mode)."""
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self.last_draw >= BAR_INTERVAL:
            self.last_draw = now
            self.progress.update(self.task, completed=run.step, info=self._info(run, now))

    @hookimpl
    def on_log(self, run: Run, metrics: dict[str, float], step: int) -> None:
        if self.mode != "plain":
            return
        now = time.monotonic()
        if now - self.last_line >= PLAIN_INTERVAL:
            self.last_line = now
            self._line(f"step {step}  {self._info(run, now)}")

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        if self.mode == "quiet":
            return
        values = "  ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
        self._line(f"eval step {run.step} epoch {run.epoch}: {values}")

    @hookimpl(trylast=True)
    def on_run_end(self, run: Run, status: str) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.mode == "quiet":
            return
        rows = [("status", status + (f" ({run.stop_reason})" if run.stop_reason else "")),
                ("steps", str(run.step)), ("epochs", str(run.epoch)),
                ("time", f"{run.elapsed:.1f}s")]
        rows += [(name, f"{value:.6g}") for name, value in sorted(run.metrics.items())]
        if run.best:
            rows.append((f"best {run.best['metric']}", f"{run.best['value']:.6g} at step {run.best['step']}"))
        rows += [(f"model ({tag})", path) for tag, path in sorted(run.exports.items())]
        rows.append(("run directory", str(run.dir)))
        if self.mode == "bar":
            from rich.table import Table

            table = Table(title=f"run {run.spec.run.name}", show_header=False)
            for name, value in rows:
                table.add_row(name, value)
            _rich_console().print(table)
        else:
            width = max(len(name) for name, _ in rows)
            for name, value in rows:
                self._line(f"  {name.ljust(width)}  {value}")

    def _info(self, run: Run, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = (run.step - self.first_step) / elapsed
        loss = run.metrics.get("train/loss")
        text = f"epoch {run.epoch}  {rate:.1f} steps/s"
        return text + (f"  loss {loss:.4g}" if loss is not None else "")

    def _line(self, text: str) -> None:
        if self.mode == "quiet":
            return
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)


def _rich_console() -> Any:
    from rich.console import Console as RichConsole

    return RichConsole(stderr=True)


class BarConsole(Console):
    """The console on a terminal: also follows every step to move the progress bar."""

    @hookimpl
    def on_step(self, run: Run) -> None:
        self._redraw_bar(run)


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    mode = run.console
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() and run.is_main_process else "plain"
    return [("run:console", (BarConsole if mode == "bar" else Console)(run, mode))]
