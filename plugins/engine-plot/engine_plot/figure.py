"""Drawing the curves with matplotlib (Agg: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

from engine_plot.curves import Run


def draw(runs: list[Run], metrics: list[str], output: Path) -> None:
    """One subplot per metric, one line per run, written as a PNG to ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for index, metric in enumerate(metrics):
        ax = axes[index // columns][index % columns]
        for number, run in enumerate(runs):
            points = run.curves.get(metric)
            if points:
                steps, values = zip(*points, strict=True)
                marker = "o" if len(points) < 30 else None
                ax.plot(steps, values, label=run.label, color=f"C{number % 10}", marker=marker, markersize=3)
        ax.set_title(metric)
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        if metric.endswith("loss") and _positive(runs, metric):
            ax.set_yscale("log")
    for index in range(len(metrics), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    handles = {h.get_label(): h for ax in figure.axes for h in ax.get_lines()}
    figure.legend(handles=list(handles.values()), labels=list(handles), loc="upper center", ncol=min(len(handles), 5),
                  bbox_to_anchor=(0.5, 1.0), frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (3.6 * rows)))
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=100)
    plt.close(figure)


def _positive(runs: list[Run], metric: str) -> bool:
    values = [v for run in runs for _, v in run.curves.get(metric, []) if math.isfinite(v)]
    return bool(values) and min(values) > 0
