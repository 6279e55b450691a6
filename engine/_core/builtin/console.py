"""Built-in console: a progress bar on a terminal, plain periodic lines otherwise, a final table."""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any

from engine._core.hookspecs import hookimpl

if TYPE_CHECKING:
    from pathlib import Path

    from engine._core.checkpoint.manifest import CheckpointInfo
    from engine._core.run import Run


PLAIN_INTERVAL = 10.0


class Console:
    """Shows progress (step, epoch, throughput, last loss, ETA) and the final summary."""

    def __init__(self, run: Run, mode: str):
        self.mode = mode
        self.progress: Any = None
        self.task: Any = None
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

            console = self

            class RunProgress(Progress):
                """A bar that reads the run's step whenever it is drawn: never behind the run."""

                def get_renderables(self) -> Any:
                    console._follow(run)
                    return super().get_renderables()

            total = run.step_limit
            self.progress = RunProgress(
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

    def _follow(self, run: Run) -> None:
        """Bring the bar to the run's step (and its rate and loss) just before it is drawn.

        The bar is drawn by rich's refresh thread and above every printed line; reading the
        step then, rather than copying it from ``on_step`` now and then, keeps what it shows
        the step the run is at, at no cost per step.
        """
        if self.progress is not None:
            self.progress.update(self.task, completed=run.step, info=self._info(run, time.monotonic()))

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
        rows += [("tracking", state) for state in run._disabled_trackers.values()]
        rows.append(("run directory", str(run.dir)))
        print_table(f"run {run.spec.run.name}", rows, bar=self.mode == "bar")

    def _info(self, run: Run, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = (run.step - self.first_step) / elapsed
        loss = run.metrics.get("train/loss")
        text = f"epoch {run.epoch}  {rate:.1f} steps/s"
        text += f"  loss {loss:.4g}" if loss is not None else ""
        return text + _system_info(run.metrics)

    def _line(self, text: str) -> None:
        if self.mode == "quiet":
            return
        if self.progress is not None:
            self.progress.refresh()  # the bar printed below the line shows the step of now
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)


def _system_info(metrics: dict[str, float]) -> str:
    """A backend's last ``sys/`` metrics for the progress line: samples/s, tokens/s, peak memory."""
    text = ""
    for name, unit in (("sys/samples_per_s", "samples/s"), ("sys/tokens_per_s", "tokens/s")):
        if name in metrics:
            text += f"  {metrics[name]:.4g} {unit}"
    if "sys/memory_peak" in metrics:
        text += f"  mem {metrics['sys/memory_peak'] / 2**30:.2f} GiB"
    return text


def print_table(title: str, rows: list[tuple[str, str]], *, bar: bool) -> None:
    """A final table on stderr: drawn by rich on a terminal (``bar``), plain lines otherwise."""
    if bar:
        from rich.table import Table

        table = Table(title=title, show_header=False)
        for name, value in rows:
            table.add_row(name, value)
        _rich_console().print(table)
    else:
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"  {name.ljust(width)}  {value}", file=sys.stderr, flush=True)


def print_cv_summary(summary: dict[str, Any], directory: Path, console: str) -> None:
    """After the folds: one table with every metric's mean ± std over the folds
    (``summary`` as :func:`engine._core.cv.summarise` makes it); nothing when ``quiet``."""
    if console == "quiet":
        return
    status = str(summary["status"]) + (f" ({summary['reason']})" if summary.get("reason") else "")
    rows = [("status", status), ("folds", str(summary["folds"]))]
    rows += [(name, f"{m['mean']:.6g} ± {m['std']:.2g}  (n={len(m['values'])})")
             for name, m in summary["metrics"].items()]
    rows.append(("run directory", str(directory)))
    bar = console == "bar" or (console == "auto" and sys.stderr.isatty())
    if not bar:
        print(f"cross-validation {summary['name']!r}: mean ± std over folds", file=sys.stderr, flush=True)
    print_table(f"cross-validation {summary['name']}: mean ± std over folds", rows, bar=bar)


def _rich_console() -> Any:
    from rich.console import Console as RichConsole

    return RichConsole(stderr=True)


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    mode = run.console
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() and run.is_main_process else "plain"
    return [("run:console", Console(run, mode))]
