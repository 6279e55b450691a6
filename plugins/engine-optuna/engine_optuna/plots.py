"""PNG plots of a study with ``optuna.visualization.matplotlib``; one that cannot be drawn is skipped."""

from __future__ import annotations

import importlib
import io
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine import write_atomic

PLOTS_DIR = "plots"
#: The intermediate-values legend names this many trials (the best); the others are drawn unlabelled.
LEGEND_TRIALS = 10
#: The history plot uses a log scale when its (positive) values span more decades than this.
LOG_DECADES = 2.0


def load_plotting() -> None:
    """Import matplotlib (Agg backend) and Optuna's plots, some 0.4 s. With several workers the
    command does it beside the other workers' trials, instead of alone once they have ended.
    It never stops a study: what fails here (a missing module, a font cache that cannot be
    written) is left for :func:`write_plots` to report, plot by plot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        importlib.import_module("optuna.visualization.matplotlib")
    except Exception:  # reported by write_plots
        pass


def plot_names(study: Any) -> list[str]:
    """The plots of ``study``: history, importances, parallel coordinates and, where trials
    reported any (to a pruner), intermediate values; the Pareto front instead for several metrics."""
    names = ["history", "importances", "parallel_coordinates"]
    if len(study.directions) > 1:
        return [*names, "pareto_front"]
    if any(trial.intermediate_values for trial in study.get_trials(deepcopy=False)):
        return [*names, "intermediate_values"]
    return names


def draw_plot(study: Any, name: str) -> Any:
    """The matplotlib figure of plot ``name`` of ``study``, ready to save (raises when it cannot
    be drawn: too few trials, no parameters, ...)."""
    import matplotlib

    matplotlib.use("Agg")
    import optuna.visualization.matplotlib as vis
    from optuna.exceptions import ExperimentalWarning

    single = len(study.directions) == 1
    target: dict[str, Any] = {} if single else {
        "target": lambda t: t.values[0], "target_name": (study.metric_names or ["value_0"])[0]}
    plots: dict[str, Callable[[], Any]] = {
        "history": lambda: vis.plot_optimization_history(study, **target),
        "importances": lambda: vis.plot_param_importances(study, **target),
        "parallel_coordinates": lambda: vis.plot_parallel_coordinate(study, **target),
        "intermediate_values": lambda: vis.plot_intermediate_values(study),
        "pareto_front": lambda: vis.plot_pareto_front(study),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)
        axes = plots[name]()
    first_axes = axes.flat[0] if hasattr(axes, "flat") else axes
    if name == "history":
        scale_history(first_axes, [value for trial in study.trials if (value := _target_value(trial)) is not None])
    elif name == "intermediate_values":
        label_best_trials(first_axes, study)
        scale_history(first_axes, [value for trial in study.trials for value in trial.intermediate_values.values()
                                   if math.isfinite(value)])
    figure = first_axes.get_figure()
    figure.set_size_inches(8, 5)
    figure.tight_layout()
    return figure


def write_plots(study: Any, directory: Path) -> list[Path]:
    """Every plot of :func:`plot_names` as ``directory/<name>.png``; one that cannot be drawn is
    skipped with a note."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in plot_names(study):
        path = directory / f"{name}.png"
        try:
            figure = draw_plot(study, name)
            image = io.BytesIO()
            # the intermediate values' legend is beside the axes; the others fit the tight layout
            figure.savefig(image, format="png", dpi=100, bbox_inches="tight" if name == "intermediate_values" else None)
            write_atomic(path, image.getvalue())
            written.append(path)
        except Exception as exc:  # too few trials, no parameters, ... : the others still matter
            print(f"engine: note: plot {name} skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            plt.close("all")
    return written


def _target_value(trial: Any) -> float | None:
    """The plotted value of a completed trial (the first metric of several), else ``None``."""
    values = trial.values
    if trial.state.name != "COMPLETE" or not values:
        return None
    value = float(values[0])
    return value if math.isfinite(value) else None


def scale_history(axes: Any, values: Sequence[float]) -> None:
    """Keep one outlier from flattening a plot of ``values``: a log scale when the values are positive and
    span more than :data:`LOG_DECADES` decades, else y limits that leave far outliers off the scale
    (counted in a note)."""
    if len(values) < 3:
        return
    low, high = min(values), max(values)
    if low > 0 and math.log10(high / low) > LOG_DECADES:
        axes.set_yscale("log")
        return
    ordered = sorted(values)
    p10, p90 = ordered[int(0.1 * (len(ordered) - 1))], ordered[math.ceil(0.9 * (len(ordered) - 1))]
    spread = p90 - p10
    if spread <= 0:
        return
    bottom, top = max(low, p10 - 3 * spread), min(high, p90 + 3 * spread)
    off = sum(1 for value in values if not bottom <= value <= top)
    if off:
        margin = 0.05 * (top - bottom)
        axes.set_ylim(bottom - margin, top + margin)
        axes.text(0.01, 0.99, f"{off} value(s) off the scale", transform=axes.transAxes,
                  va="top", ha="left", fontsize="small", color="0.4")


def label_best_trials(axes: Any, study: Any, keep: int = LEGEND_TRIALS) -> None:
    """Name only the best ``keep`` trials in the legend (beside the axes), so that it fits."""
    handles, labels = axes.get_legend_handles_labels()
    if axes.get_legend() is not None:
        axes.get_legend().remove()
    if not handles:
        return
    by_number = {trial.number: trial for trial in study.trials}
    sign = -1.0 if study.direction.name == "MAXIMIZE" else 1.0

    def rank(label: str) -> float:
        trial = by_number.get(int(label.removeprefix("Trial").strip()))
        if trial is None:
            return math.inf
        value = trial.value if trial.value is not None else \
            (trial.intermediate_values[max(trial.intermediate_values)] if trial.intermediate_values else None)
        return sign * float(value) if value is not None and math.isfinite(value) else math.inf

    best = sorted(range(len(labels)), key=lambda i: rank(labels[i]))[:keep]
    best.sort(key=lambda i: int(labels[i].removeprefix("Trial").strip()))
    title = f"best {len(best)} of {len(labels)} trials" if len(best) < len(labels) else None
    axes.legend([handles[i] for i in best], [labels[i] for i in best], title=title, fontsize="small",
                title_fontsize="small", bbox_to_anchor=(1.02, 1.0), loc="upper left", borderaxespad=0.0)
