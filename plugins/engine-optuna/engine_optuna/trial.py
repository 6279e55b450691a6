"""One trial: a full engine run in ``<run dir>/trials/<number>``, reporting to Optuna at each evaluation."""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine import EngineError, Run, RunStatus, hookimpl
from engine.session import Plugins, RawSpec, RunResult, run, structure
from engine_optuna.space import Param, suggest
from engine_optuna.trial_spec import trial_raw
from engine_optuna.trial_writes import write_trial

if TYPE_CHECKING:
    from engine_optuna.pruning import PendingReports

TRIALS_DIR = "trials"
REPORTER_NAME = "optuna-trial"
#: What a trial's spec gets unless ``[tune] checkpoints = true``: no checkpoint at any cadence
#: or at the end, since no trial is ever resumed from one.
NO_CHECKPOINTS = {"loop.checkpoint_every": "never", "checkpoint.on_exit": False}


class TrialFailedError(Exception):
    """The trial's run failed (a crash, a non-finite loss); the study goes on."""


class TrialRefusedError(TrialFailedError):
    """The engine refused the trial's sampled spec before it ran; the study goes on, unless
    the first trials are all refused the same way (:func:`engine_optuna.worker.repeated_refusal`)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class TrialReporter:
    """Registered for one trial: reports the metric and prunes through ``run.stop``; keeps
    each fold's last and best evaluation (one fold without [cv]) and counts the steps and
    statuses of the trial's runs.

    In ``"steps"`` it reports every evaluation at the absolute step (``run.step``, unaffected
    by a resume); in ``"epochs"`` (:mod:`engine_optuna.resources`) it reports once per epoch:
    the first evaluation at or after each epoch's end, at the number of epochs completed then.

    With [cv] the folds run one after another and report on one axis: fold k's step (or
    epoch) s is reported at s plus the lengths of folds 0..k-1 (their step or epoch limit, so
    k × ``max_steps`` in steps), so the pruner compares a trial's fold k at step s with the
    other trials' fold k at step s. A pruned fold also stops the folds after it.
    """

    def __init__(self, trial: Any, metrics: list[str], prune: bool, *, maximize: bool = False,
                 unit: str = "steps", value: str = "best", beat: float | None = None):
        self.trial = trial
        self.metrics = metrics
        self.prune = prune
        self.maximize = maximize
        self.unit = unit
        self.value = value
        #: The value this trial must beat to export its models (``[tune] export = "improving"``);
        #: ``None``: it exports them whatever its value.
        self.beat = beat
        self.reported_epochs = 0  # in epochs: the last epoch count reported in this fold
        self.offset = 0  # with [cv]: where this fold's steps (or epochs) start on the trial's axis
        self.next_offset = 0
        self.last: dict[int, dict[str, float]] = {}
        self.best: dict[int, dict[str, float]] = {}
        self.pruned_at: str | None = None
        self.steps = 0
        self.statuses: list[str] = []
        # the values kept in memory until the run ends, where the pruner allows (engine_optuna.pruning)
        self.pending = _pending_reports(trial) if prune else None

    @hookimpl
    def on_run_start(self, run: Run) -> None:
        self.reported_epochs = 0
        if run.fold is not None and self.prune:
            self.offset = self.next_offset
            self.next_offset += fold_length(run, self.unit)

    def unstored(self) -> dict[int, float]:
        """The intermediate values kept in memory and not written yet (none without pruning)."""
        return {} if self.pending is None else self.pending.unstored()

    @hookimpl
    def on_run_end(self, run: Run, status: str) -> None:
        self.steps += run.step
        self.statuses.append(status)

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        fold = run.fold[0] if run.fold else 0
        last = self.last.setdefault(fold, {})
        last.update(metrics)
        value = metrics.get(self.metrics[0])
        if value is None:
            return
        best = self.best.get(fold)
        if best is None or beats(value, best[self.metrics[0]], self.maximize):
            self.best[fold] = dict(last)
        if self.beat is not None:
            chosen = (self.best[fold] if self.value == "best" else last)[self.metrics[0]]
            run.set_export(beats(chosen, self.beat, self.maximize))
        if not self.prune:
            return
        if self.unit != "epochs":
            self._report(run, value, run.step, f"step {run.step}")
            return
        epochs = epochs_completed(run)
        if epochs > self.reported_epochs:
            self.reported_epochs = epochs
            self._report(run, value, epochs, f"epoch {epochs} (step {run.step})")

    def _report(self, run: Run, value: float, resource: int, where: str) -> None:
        step = self.offset + resource
        if self.pending is not None:
            pruned = self.pending.report(value, step)
        else:
            self.trial.report(value, step)
            pruned = self.trial.should_prune()
        if pruned:
            if run.fold is not None:
                where = f"fold {run.fold[0]} {where}"
            self.pruned_at = where
            reason = f"pruned by Optuna at {where} ({self.metrics[0]} = {value:.6g})"
            # with [cv], the next folds do not start; a pruned trial's models are never wanted
            run.stop(reason, folds=True, export=False)


def _pending_reports(trial: Any) -> PendingReports | None:
    """Where the study's pruner allows, ``trial``'s intermediate values kept in memory until it ends."""
    from engine_optuna.pruning import PendingReports  # Optuna: loaded by the first trial, after the workers start

    return PendingReports(trial) if PendingReports.applies(trial) else None


def beats(value: float, than: float, maximize: bool) -> bool:
    """Whether ``value`` is better than ``than`` in the metric's direction."""
    return value > than if maximize else value < than


def fold_length(run: Run, unit: str) -> int:
    """A fold's length on the trial's axis: its step limit, or in epochs the epochs that
    limit spans (``engine check`` refuses a pruned [cv] without max_steps or max_epochs)."""
    limit = run.step_limit
    if not math.isfinite(limit):
        raise EngineError("a pruned cross-validation needs each fold's length", where="loop",
                          fix='set loop.max_steps or loop.max_epochs, or tune.pruner = "none"')
    return math.ceil(limit / run.steps_per_epoch) if unit == "epochs" else int(limit)


def epochs_completed(run: Run) -> int:
    """Epochs done at this point of the run: an evaluation at an epoch's last step comes
    before the loop counts that epoch as done (``on_epoch_end``)."""
    return run.epoch + (1 if run.step_in_epoch >= run.steps_per_epoch else 0)


@attrs.define
class TrialRunner:
    """The objective Optuna calls: sample, run, return the metrics (or prune, or fail)."""

    raw: RawSpec
    plugins: Plugins
    params: list[Param]
    metrics: list[str]
    prune: bool
    tune_dir: Path
    name: str
    #: ``[tune] value``: a trial's best evaluation or its last.
    value: str = "best"
    #: The first metric's direction, which "best" follows.
    maximize: bool = False
    #: The unit the trials report in: ``"steps"`` or ``"epochs"`` (``tune.pruner_options``).
    prune_unit: str = "steps"
    #: ``[tune] checkpoints``: let trials write the checkpoints their spec asks for.
    checkpoints: bool = False
    #: What this worker's trials load once, such as the data (``Run.shared``).
    shared: dict[str, Any] = attrs.field(factory=dict)
    #: ``[tune] export``: ``"improving"`` (a trial exports its models only when it beats the
    #: trials this worker finished before it) or ``"all"``.
    export: str = "improving"
    #: The best value of the trials this worker completed (one metric).
    best_so_far: float | None = attrs.field(default=None, init=False)

    def __call__(self, trial: Any) -> float | tuple[float, ...]:
        import optuna

        directory = self.tune_dir / TRIALS_DIR / str(trial.number)
        storage = trial.study._storage
        values = suggest(trial, self.params)
        try:
            raw = trial_raw(self.raw, values, f"{self.name}-trial-{trial.number}")
            if not self.checkpoints:
                raw = raw.with_values(NO_CHECKPOINTS, where="engine tune: a trial is never resumed "
                                                            "([tune] checkpoints = true keeps them)")
            spec = structure(raw, self.plugins)
        except EngineError as exc:  # a sampled value the spec refuses
            raise _refused(trial, exc) from None
        cv = spec.cv is not None
        # the study's best trial always beats the trials its worker finished before it, so it
        # always has its models; with [cv] (a mean over the folds) or several metrics, every trial does
        improving = self.export == "improving" and not cv and len(self.metrics) == 1 and self.best_so_far is not None
        reporter = TrialReporter(trial, self.metrics, self.prune, maximize=self.maximize, unit=self.prune_unit,
                                 value=self.value, beat=self.best_so_far if improving else None)
        self.plugins.register(reporter, REPORTER_NAME, "engine-optuna, for the trial")
        try:
            result = run(spec, run_dir=directory, console="quiet", shared=self.shared)  # every fold with [cv]
        except EngineError as exc:  # refused at set-up, before anything is written (a warmup past the run's end)
            raise _refused(trial, exc) from None
        finally:
            self.plugins.unregister(REPORTER_NAME)
        interrupted = (result.status == RunStatus.INTERRUPTED
                       or RunStatus.INTERRUPTED in reporter.statuses)  # a fold, with [cv]
        failed = result.status == RunStatus.FAILED and not interrupted
        why = _reason(result)
        reason = (why or "the run failed") if failed else ""
        # one write before the trial is told: the trials after it read its values
        ended: dict[str, Any] = {"run_dir": str(directory), "steps": int(result.summary.get("steps", reporter.steps))}
        if failed:
            ended["fail_reason"] = reason.splitlines()[0]
        write_trial(storage, trial._trial_id, user_attrs=ended, intermediate=reporter.unstored())
        state = "FAIL" if failed or interrupted else "PRUNED" if reporter.pruned_at is not None else "COMPLETE"
        _write_trial_record(directory, trial.number, values, state, why, result.summary.get("model"))
        if interrupted:
            raise KeyboardInterrupt
        if failed:
            raise TrialFailedError(reason)
        if reporter.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at {reporter.pruned_at}")
        found = _fold_means(trial, reporter.best if self.value == "best" else reporter.last, self.metrics, cv)
        missing = [m for m in self.metrics if m not in found]
        if missing:
            reported = ", ".join(sorted(found)) or "none (is loop.eval_every set?)"
            raise EngineError(f"trial {trial.number} never reported {', '.join(missing)}",
                              where="tune.metric", fix=f"optimise an evaluation metric: {reported}")
        chosen = [found[m] for m in self.metrics]
        if len(chosen) == 1 and math.isfinite(chosen[0]) and (
                self.best_so_far is None or beats(chosen[0], self.best_so_far, self.maximize)):
            self.best_so_far = chosen[0]
        return chosen[0] if len(chosen) == 1 else tuple(chosen)


def _refused(trial: Any, exc: EngineError) -> TrialRefusedError:
    """Record why the engine refused the trial's spec, as one line, on the trial."""
    reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    trial.set_user_attr("fail_reason", reason)
    trial.set_user_attr("refused", True)
    return TrialRefusedError(reason)


def _fold_means(trial: Any, by_fold: dict[int, dict[str, float]], metrics: list[str], cv: bool) -> dict[str, float]:
    """The chosen evaluation of each fold (one without [cv]), averaged over the folds; with
    [cv], the spread of the tuned metrics is kept as the trial's ``cv_std`` attribute."""
    folds = list(by_fold.values())
    names = set.intersection(*(set(fold) for fold in folds)) if folds else set()
    means = {name: statistics.fmean(fold[name] for fold in folds) for name in names}
    if cv:
        trial.set_user_attr("cv_std", {m: statistics.pstdev(fold[m] for fold in folds) for m in metrics if m in names})
    return means


def _reason(result: RunResult) -> str:
    reason = result.summary.get("reason")
    if reason:
        return str(reason)
    return "" if result.error is None else str(result.error)


def _write_trial_record(directory: Path, number: int, values: dict[str, Any], state: str, reason: str,
                        models: Any) -> None:
    """``trial.json``: the trial's values, how it ended, and its models (none when it did not beat
    the trials before it, under ``[tune] export = "improving"``, or was pruned)."""
    if directory.is_dir():
        record = {"number": number, "params": values, "state": state, "reason": reason, "models": models or {}}
        (directory / "trial.json").write_text(json.dumps(record, indent=2) + "\n")
