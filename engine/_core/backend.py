"""What the loop asks of a backend: the work of one step, evaluation, state and export.

A backend is a component of kind ``backend``. The loop owns cadence, stopping and the
order of events; the backend owns only the work. It is also registered as the plugin named
``backend`` for the run, so it may implement events, and its ``state_dict`` goes into every
checkpoint.

Besides the methods of :class:`Backend`, a backend may define optional ones, each read
through a function below: ``test``, ``export_as_of``, ``is_finite``, ``metric_names`` and
``dry_run``. A backend with an optimizer fires ``on_before_optimizer_step`` in
``train_step`` (see :mod:`engine._core.hookspecs`).

Plugins, not the loop, read one more optional method: ``input_example()``, a few rows of the
model's input as the exported model takes them (a pandas DataFrame, a numpy array, a tensor),
or None; a tracker records it with the model as its signature and input example.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine._core.run import Run


@runtime_checkable
class Backend(Protocol):
    def setup(self, run: Run) -> None:
        """Build the model and data. ``run.spec``, ``run.seed``, ``run.fold`` and the
        selected ``run.components`` (precision, scheduler, strategy) are available."""

    @property
    def steps_per_epoch(self) -> int:
        """Steps in one pass over the training data (1 for a boosting round)."""

    def train_step(self, run: Run) -> None:
        """Do step ``run.step + 1``: the batch at ``run.step_in_epoch`` of epoch ``run.epoch``.

        After a resume this is called for a position in the middle of an epoch; the backend
        must continue there without replaying earlier batches.
        """

    def train_metrics(self) -> dict[str, float]:
        """Training metrics accumulated since the last call (``train/loss``, ...), then reset.

        Called only at the log cadence, so a device backend syncs only then. What it has
        accumulated belongs in ``state_dict``: a signal checkpoints between two log steps.
        """

    def evaluate(self, run: Run) -> dict[str, float]:
        """Validation metrics (``val/loss``, ``val/accuracy``, ...).

        A backend with a held-out test split also defines ``test(run)`` (optional, see
        :func:`final_test`), called once at the end of the run.
        """

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically: JSON values and bytes only.

        A bytes value may be deferred: an object with ``__bytes__``, a private host copy that
        becomes bytes later, in the background; the backend must not change it after
        ``state_dict`` returns (see :mod:`engine._core.checkpoint.state`).
        """

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def export(self, directory: Path, tag: str) -> Path | None:
        """Write the model as ``<directory>/<tag>.<ext>`` (tag is ``final`` or ``best``).

        In a run of several processes (``run.world_size > 1``) every process calls this, so
        a sharded model can be gathered; write only where ``run.is_main_process``.
        """


def final_test(backend: object) -> Callable[[Run], dict[str, float]] | None:
    """The backend's optional ``test(run) -> dict[str, float]``, or None.

    A backend with a held-out test split defines it: the split's metrics (``test/loss``,
    ``test/accuracy``, ...), or an empty dict when the run has no test split. The core calls
    it once, at the end of a run that completed or stopped, after the models are exported,
    on the trained model as it is then (the one exported as ``final``), and logs what it
    returns like evaluation metrics: ``on_log``, ``metrics.jsonl``, ``summary.json``. In a
    run of several processes every process calls it (reduce over them, as ``evaluate`` does).
    ``export`` only writes the model: it evaluates nothing.
    """
    method = getattr(backend, "test", None)
    return method if callable(method) else None


def export_as_of(backend: object) -> Callable[[Path, str, int], Path | None] | None:
    """The backend's optional ``export_as_of(directory, tag, step)``, or None.

    A backend whose model keeps every step it took (boosted trees keep every round) defines
    it to write the model as it was after ``step``. The best model is then written once, at
    the end of the run, instead of again at every improvement. A backend sets the attribute
    to None where its model cannot be cut back (XGBoost's linear booster).
    """
    method = getattr(backend, "export_as_of", None)
    return method if callable(method) else None


def finite_check(backend: object) -> Callable[[], bool] | None:
    """The backend's optional ``is_finite()``, or None.

    A backend whose state can become non-finite defines it: True when the model's weights and
    the training loss accumulated since the last ``train_metrics()`` are all finite (NaN and
    inf are not). With ``loop.on_nan = "stop"`` the loop asks it before every evaluation and
    every checkpoint, so a non-finite model is never evaluated, chosen as best, checkpointed or
    exported. It must not change the state it reads. In a run of several processes every
    process calls it at the same step; the answer must be the same on all (reduce it).
    """
    method = getattr(backend, "is_finite", None)
    return method if callable(method) else None


def reported_metrics(backend: object, run: Run) -> set[str] | None:
    """The metric names the backend's ``evaluate`` will report for this run, or None.

    A backend declares them with an optional ``metric_names(run) -> Iterable[str] | None``,
    called after ``setup``; None there (or no method) means only the first evaluation tells,
    and a monitored name it lacks then fails the run (:mod:`engine._core.preflight`).
    """
    method = getattr(backend, "metric_names", None)
    if not callable(method):
        return None
    names = method(run)
    return None if names is None else set(names)


def dry_run(backend: object, run: Run) -> None:
    """The backend's optional ``dry_run(run)``: one batch through the model, the loss and the
    metrics after ``setup``, so a mistake there is refused before training.

    It trains nothing and leaves the backend, its data position and every random number
    generator as they were: a run is bit-identical with or without it.
    """
    method = getattr(backend, "dry_run", None)
    if callable(method):
        method(run)
