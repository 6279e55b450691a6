"""The study plots stay readable: one outlier does not flatten the optimisation history, the
intermediate-values legend names only the best trials so that it fits beside the axes, and a
study whose trials reported no intermediate values (no pruner) gets no empty plot of them."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from engine_optuna.plots import LEGEND_TRIALS, draw_plot, write_plots
from optuna_helpers import tune_spec

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(values: list[float], *, steps: int = 0, direction: str = "minimize") -> optuna.Study:
    """A study whose trial ``i`` has value ``values[i]`` (and ``steps`` intermediate values ending there)."""
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=0))
    for value in values:
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0.0, 1.0)})
        for step in range(steps):
            trial.report(value * (steps - step), step)
        study.tell(trial, value)
    return study


def _texts(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def test_one_outlier_over_positive_values_puts_the_history_on_a_log_scale() -> None:
    figure = draw_plot(_study([0.5 + 0.01 * i for i in range(10)] + [5000.0]), "history")
    assert figure.axes[0].get_yscale() == "log"


def test_an_outlier_among_negative_values_is_left_off_the_scale_with_a_note() -> None:
    figure = draw_plot(_study([-1.0 - 0.01 * i for i in range(10)] + [50.0]), "history")
    axes = figure.axes[0]
    bottom, top = axes.get_ylim()
    assert axes.get_yscale() == "linear" and top < 1.0 and bottom < -1.09, (bottom, top)
    assert _texts(figure) == ["1 value(s) off the scale"]


def test_values_without_outliers_keep_the_plain_history() -> None:
    figure = draw_plot(_study([0.5 + 0.01 * i for i in range(10)]), "history")
    axes = figure.axes[0]
    assert axes.get_yscale() == "linear" and not _texts(figure)
    assert axes.get_ylim()[0] < 0.5 and axes.get_ylim()[1] > 0.59


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_the_intermediate_values_legend_names_the_best_trials_and_fits(direction: str) -> None:
    values = [float((7 * i) % 30) for i in range(30)]  # trial i: a permutation of 0 .. 29
    figure = draw_plot(_study(values, steps=3, direction=direction), "intermediate_values")
    legend = figure.axes[0].get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    ranked = sorted(range(30), key=lambda i: values[i], reverse=direction == "maximize")
    assert labels == [f"Trial{i}" for i in sorted(ranked[:LEGEND_TRIALS])]
    assert legend.get_title().get_text() == f"best {LEGEND_TRIALS} of 30 trials"
    assert len(figure.axes[0].get_lines()) == 30  # every trial is still drawn
    assert figure.axes[0].get_yscale() == "linear" and not _texts(figure)
    renderer = figure.canvas.get_renderer()
    assert legend.get_window_extent(renderer).height <= figure.bbox.height


def test_an_outlying_trial_puts_the_intermediate_values_on_a_log_scale() -> None:
    figure = draw_plot(_study([1.0 + 0.1 * i for i in range(5)] + [4000.0], steps=3), "intermediate_values")
    assert figure.axes[0].get_yscale() == "log"


def test_a_few_trials_are_all_named() -> None:
    figure = draw_plot(_study([3.0, 1.0, 2.0], steps=2), "intermediate_values")
    legend = figure.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Trial0", "Trial1", "Trial2"]
    assert not legend.get_title().get_text()


def test_every_plot_is_written_for_many_trials(tmp_path: Path) -> None:
    written = write_plots(_study([float(i % 7) + 0.1 for i in range(25)] + [1e5], steps=2), tmp_path)
    assert sorted(p.name for p in written) == ["history.png", "importances.png", "intermediate_values.png",
                                               "parallel_coordinates.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    assert not list(tmp_path.glob(".*partial*"))


def test_a_study_without_a_pruner_gets_no_empty_intermediate_values_plot(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "spec.toml").write_text(tune_spec(trials=3, max_steps=10, pruner="none"))
    result = cli("tune", "spec.toml")
    assert result.code == 0, result
    plots = tmp_path / "runs" / "study" / "plots"
    assert sorted(p.name for p in plots.iterdir()) == ["history.png", "importances.png", "parallel_coordinates.png"]
    assert "intermediate_values" not in result.out + result.err
