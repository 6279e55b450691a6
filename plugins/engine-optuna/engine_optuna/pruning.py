"""Pruning decisions that read the study once per trial, not once per report.

Optuna's median, percentile and successive-halving pruners read every trial of the study, with
every intermediate value, at each ``should_prune``: a query that grows with the study and cost
more than the steps it saved on short trials. Finished trials do not change, so a trial's
decisions can share one reading: :class:`SharedReadPruner` reads the study when a trial makes
its first report, again only when that reading is older than :data:`MAX_AGE_SECONDS` (the
trials other workers finish meanwhile), and hands the pruner a view of the study whose
``get_trials`` answers from it. The trial's own values come from the trial, as before.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Container
from typing import Any

import optuna

#: A reading older than this is refreshed before the next decision (trials finished elsewhere).
MAX_AGE_SECONDS = 5.0


class _StudyReading:
    """The study as read once: ``get_trials`` and ``trials`` from that reading, the rest live."""

    def __init__(self, study: optuna.Study, trials: list[optuna.trial.FrozenTrial]):
        self._live = study
        self._trials = trials

    def get_trials(self, deepcopy: bool = True, states: Container[optuna.trial.TrialState] | None = None
                   ) -> list[optuna.trial.FrozenTrial]:
        trials = self._trials if states is None else [t for t in self._trials if t.state in states]
        return [optuna.trial.FrozenTrial(**_fields(t)) for t in trials] if deepcopy else list(trials)

    @property
    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return self.get_trials(deepcopy=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live, name)


def _fields(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    import copy

    return {"number": trial.number, "state": trial.state, "value": None, "values": copy.deepcopy(trial.values),
            "datetime_start": trial.datetime_start, "datetime_complete": trial.datetime_complete,
            "params": copy.deepcopy(trial.params), "distributions": copy.deepcopy(trial.distributions),
            "user_attrs": copy.deepcopy(trial.user_attrs), "system_attrs": copy.deepcopy(trial.system_attrs),
            "intermediate_values": dict(trial.intermediate_values), "trial_id": trial._trial_id}


class SharedReadPruner(optuna.pruners.BasePruner):
    """``inner``'s decisions, each trial's made on one reading of the study (see the module)."""

    def __init__(self, inner: optuna.pruners.BasePruner, max_age: float = MAX_AGE_SECONDS):
        self.inner = inner
        self.max_age = max_age
        self._reading: list[optuna.trial.FrozenTrial] | None = None
        self._for_trial = -1
        self._read_at = 0.0

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        now = time.monotonic()
        if self._reading is None or trial.number != self._for_trial or now - self._read_at > self.max_age:
            self._reading = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number]
            self._for_trial, self._read_at = trial.number, now
        view: Any = _StudyReading(study, self._reading)  # duck-typed: the pruner reads trials and directions
        return bool(self.inner.prune(view, trial))


def shared_read(pruner: Any) -> Any:
    """``pruner`` wrapped in :class:`SharedReadPruner`, unless it needs the live study: Hyperband
    (its brackets are studies of their own, and samplers look for it by type) and the no-op."""
    if isinstance(pruner, (optuna.pruners.HyperbandPruner, optuna.pruners.NopPruner)):
        return pruner
    return SharedReadPruner(pruner)


#: Pruners whose decision for a trial reads only that trial's own values and the study's
#: finished trials: a running trial's values need not be in the storage while it runs.
_LOCAL = (optuna.pruners.MedianPruner, optuna.pruners.PercentilePruner, optuna.pruners.ThresholdPruner,
          optuna.pruners.WilcoxonPruner, optuna.pruners.PatientPruner)


class PendingReports:
    """A trial's intermediate values kept in memory while it runs, stored in one write at the end.

    ``trial.report`` then ``trial.should_prune`` cost two storage round trips per evaluation
    (about 1 and 2–5 ms with SQLite: writing the value, reading the trial back), more than a
    short trial's steps between two evaluations. With a pruner that decides from the trial's
    own values and the *finished* trials (:data:`_LOCAL`; what :class:`SharedReadPruner` wraps
    for them), each decision here is made on the trial as read once plus the values in memory,
    which is the same decision; :meth:`unstored` hands the values to the trial's last write (one
    transaction) before the trial is told, so the trials after it see them as before.
    """

    def __init__(self, trial: optuna.Trial):
        self.trial = trial
        self.values: dict[int, float] = {}
        self._stored: set[int] = set()
        self._frozen: optuna.trial.FrozenTrial | None = None

    @staticmethod
    def applies(trial: Any) -> bool:
        """Whether ``trial``'s study prunes with a pruner that decides locally (see the class)."""
        pruner = getattr(getattr(trial, "study", None), "pruner", None)
        inner = pruner.inner if isinstance(pruner, SharedReadPruner) else None
        return isinstance(inner, _LOCAL) and hasattr(trial, "_trial_id")

    def report(self, value: float, step: int) -> bool:
        """Record ``value`` at ``step`` (the first one counts, as in Optuna) and decide whether to prune."""
        self.values.setdefault(step, float(value))
        study = self.trial.study
        if self._frozen is None:  # the trial as Optuna holds it in memory, else as stored
            held = getattr(self.trial, "_cached_frozen_trial", None)
            self._frozen = copy.copy(held) if isinstance(held, optuna.trial.FrozenTrial) else \
                study._storage.get_trial(self.trial._trial_id)
        self._frozen.intermediate_values = dict(self.values)
        return bool(study.pruner.prune(study, self._frozen))

    def unstored(self) -> dict[int, float]:
        """The values not stored yet, marked stored: the caller writes them
        (:func:`engine_optuna.trial_writes.write_trial`, in one transaction) before the trial is told."""
        new = {step: value for step, value in self.values.items() if step not in self._stored}
        self._stored.update(new)
        return new
