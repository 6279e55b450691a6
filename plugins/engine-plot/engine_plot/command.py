"""``engine plot RUN_DIR... [--metric NAME ...] [--output FILE.png]``."""

from __future__ import annotations

from pathlib import Path

from engine import EXIT_OK, EngineError
from engine_plot.curves import choose_metrics, read_runs
from engine_plot.figure import draw

DEFAULT_OUTPUT = "curves.png"


def plot_command(directories: list[str], wanted: list[str], output: str | None) -> int:
    """Plot the runs (folds, trials) of ``directories`` into ``output``; by default into
    ``curves.png`` in the first directory given, beside the runs it shows."""
    if output is not None and Path(output).suffix.lower() != ".png":
        raise EngineError(f"--output {output!r} is not a .png file", fix="name the output FILE.png")
    runs = read_runs(directories)
    metrics = choose_metrics(runs, wanted)
    if output is None:
        output = str(Path(directories[0]) / DEFAULT_OUTPUT)
    draw(runs, metrics, Path(output))
    print(f"wrote {output}: {', '.join(metrics)} for {len(runs)} run{'s' if len(runs) > 1 else ''}")
    return EXIT_OK
