"""PNG plots of a study with ``optuna.visualization.matplotlib``; one that cannot be drawn is skipped."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

PLOTS_DIR = "plots"


def write_plots(study: Any, directory: Path) -> list[Path]:
    """History, importances, parallel coordinates and intermediate values (Pareto front for many metrics)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as vis
    from optuna.exceptions import ExperimentalWarning

    single = len(study.directions) == 1
    first = None if single else (lambda t: t.values[0])
    name = None if single else (study.metric_names or ["value_0"])[0]
    target: dict[str, Any] = {} if single else {"target": first, "target_name": name}
    plots: dict[str, Callable[[], Any]] = {
        "history": lambda: vis.plot_optimization_history(study, **target),
        "importances": lambda: vis.plot_param_importances(study, **target),
        "parallel_coordinates": lambda: vis.plot_parallel_coordinate(study, **target),
    }
    if single:
        plots["intermediate_values"] = lambda: vis.plot_intermediate_values(study)
    else:
        plots["pareto_front"] = lambda: vis.plot_pareto_front(study)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in plots.items():
        path = directory / f"{name}.png"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                warnings.simplefilter("ignore", UserWarning)
                axes = draw()
            figure = (axes.flat[0] if hasattr(axes, "flat") else axes).get_figure()
            figure.set_size_inches(8, 5)
            figure.tight_layout()
            partial = path.with_name(f".{path.name}.partial.png")
            figure.savefig(partial, dpi=100)
            os.replace(partial, path)
            written.append(path)
        except Exception as exc:  # too few trials, no parameters, ... : the others still matter
            print(f"engine: note: plot {name} skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            plt.close("all")
    return written
