"""One trial: a full engine run in ``<run dir>/trials/<number>``, reporting to Optuna at each evaluation."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import attrs

from engine import EngineError, Run, hookimpl
from engine._core.execute import execute
from engine.session import Plugins, RawSpec, structure
from engine_optuna.space import Param, suggest
from engine_optuna.trial_spec import trial_raw

TRIALS_DIR = "trials"
REPORTER_NAME = "optuna-trial"


class TrialFailedError(Exception):
    """The trial's run failed (a crash, a non-finite loss); the study goes on."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class TrialReporter:
    """Registered for one run: reports the metric at every evaluation and prunes through ``run.stop``."""

    def __init__(self, trial: Any, metrics: list[str], prune: bool):
        self.trial = trial
        self.metrics = metrics
        self.prune = prune
        self.last: dict[str, float] = {}
        self.pruned_at: int | None = None

    @hookimpl
    def on_eval(self, run: Run, metrics: dict[str, float]) -> None:
        self.last.update(metrics)
        value = metrics.get(self.metrics[0])
        if not self.prune or value is None:
            return
        self.trial.report(value, run.step)  # the absolute step: unaffected by a resume
        if self.trial.should_prune():
            self.pruned_at = run.step
            run.stop(f"pruned by Optuna at step {run.step} ({self.metrics[0]} = {value:.6g})")


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
    #: What this worker's trials load once, such as the data (``Run.shared``).
    shared: dict[str, Any] = attrs.field(factory=dict)

    def __call__(self, trial: Any) -> float | tuple[float, ...]:
        import optuna

        trial.set_user_attr("worker", worker_id())
        values = suggest(trial, self.params)
        directory = self.tune_dir / TRIALS_DIR / str(trial.number)
        trial.set_user_attr("run_dir", str(directory))
        spec = structure(trial_raw(self.raw, values, f"{self.name}-trial-{trial.number}"), self.plugins)
        reporter = TrialReporter(trial, self.metrics, self.prune)
        self.plugins.register(reporter, REPORTER_NAME, "engine-optuna, for the trial")
        try:
            result = execute(spec, self.plugins, run_dir=directory, console="quiet", shared=self.shared)
        finally:
            self.plugins.unregister(REPORTER_NAME)
        trial.set_user_attr("steps", int(result.summary.get("steps", 0)))
        state = ("FAIL" if result.status in ("failed", "interrupted")
                 else "PRUNED" if reporter.pruned_at is not None else "COMPLETE")
        _write_trial_record(directory, trial.number, values, state, result.summary.get("reason", ""))
        if result.status == "interrupted":
            raise KeyboardInterrupt
        if result.status == "failed":
            raise TrialFailedError(result.summary.get("reason") or "the run failed")
        if reporter.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned at step {reporter.pruned_at}")
        missing = [m for m in self.metrics if m not in reporter.last]
        if missing:
            reported = ", ".join(sorted(reporter.last)) or "none (is loop.eval_every set?)"
            raise EngineError(f"trial {trial.number} never reported {', '.join(missing)}",
                              where="tune.metric", fix=f"optimise an evaluation metric: {reported}")
        found = [reporter.last[m] for m in self.metrics]
        return found[0] if len(found) == 1 else tuple(found)


def _write_trial_record(directory: Path, number: int, values: dict[str, Any], state: str, reason: str) -> None:
    if directory.is_dir():
        record = {"number": number, "params": values, "state": state, "reason": reason}
        (directory / "trial.json").write_text(json.dumps(record, indent=2) + "\n")
