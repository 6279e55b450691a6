"""What a finished study leaves: a table on stdout, ``best.toml``, ``trials.csv``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

from engine import redact, redact_text, write_atomic
from engine.session import RawSpec, dump_toml
from engine_optuna.space import Param, parse_space
from engine_optuna.trial_spec import trial_raw

BEST_FILE = "best.toml"
PARETO_DIR = "pareto"
TRIALS_CSV = "trials.csv"


def best_trials(study: Any) -> list[Any]:
    """The best complete trial, or every Pareto-optimal one for several metrics."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return []
    return [study.best_trial] if len(study.directions) == 1 else list(study.best_trials)


def write_best_specs(study: Any, raw: RawSpec, tune_dir: Path, name: str) -> list[Path]:
    """``best.toml`` (or ``pareto/trial-<n>.toml``): complete specs that ``engine run`` reproduces."""
    best = best_trials(study)
    searched = {param.path: param for param in parse_space(_space(raw))[0]}
    written = []
    for trial in best:
        problem = unsearched(trial.params, searched)
        if problem:
            warn(f"trial {trial.number} of study {study.study_name!r} holds {problem}, so its spec is not "
                  "written: a study's storage is data, and only values [tune.space] searches reach a spec")
            continue
        single = len(study.directions) == 1
        run_name = f"{name}-best" if single else f"{name}-trial-{trial.number}"
        data = trial_raw(raw, dict(trial.params), run_name).data
        values = ", ".join(f"{m} = {v!r}" for m, v in zip(_metric_names(study), trial.values, strict=True))
        header = (f"# Trial {trial.number} of study {study.study_name!r}: {values}.\n"
                  f"# A complete spec: `engine run` on it trains that trial again.\n")
        path = tune_dir / BEST_FILE if single else tune_dir / PARETO_DIR / f"trial-{trial.number}.toml"
        _write_text(path, header + dump_toml(redact(data)))
        written.append(path)
    return written


def unsearched(values: dict[str, Any], searched: dict[str, Param]) -> str | None:
    """What in a trial's ``values`` the space does not search (a path, a choice), or ``None``."""
    for path, value in values.items():
        param = searched.get(path)
        if param is None:
            return f"{path!r}, which [tune.space] does not search"
        if param.kind == "categorical" and value not in param.choices:
            return f"{path} = {value!r}, which is not one of its choices"
        if param.kind != "categorical" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{path} = {value!r}, which is not a number"
    return None


def _space(raw: RawSpec) -> dict[str, Any]:
    tune = raw.data.get("tune")
    space = tune.get("space") if isinstance(tune, dict) else None
    return space if isinstance(space, dict) else {}


def warn(message: str) -> None:
    """One ``engine: warning:`` line on stderr, secrets redacted."""
    print(f"engine: warning: {redact_text(message)}", file=sys.stderr, flush=True)


def write_trials_csv(study: Any, path: Path) -> None:
    """One row per trial: number, state, values, parameters by spec path, steps, seconds, run directory."""
    trials = study.get_trials(deepcopy=False)
    params = sorted({name for trial in trials for name in trial.params})
    metrics = _metric_names(study)
    rows = []
    for trial in trials:
        values = list(trial.values) if trial.values else [None] * len(metrics)
        duration = trial.duration.total_seconds() if trial.duration is not None else None
        rows.append([
            trial.number, trial.state.name, *values, *(trial.params.get(p) for p in params),
            trial.user_attrs.get("steps"), None if duration is None else round(duration, 3),
            trial.system_attrs.get("failed_trial"), trial.user_attrs.get("run_dir"),
            trial.user_attrs.get("fail_reason"),
        ])
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["number", "state", *metrics, *params, "steps", "seconds", "retry_of", "run_dir", "fail_reason"])
    writer.writerows(rows)
    write_atomic(path, text.getvalue())


def summary_table(study: Any, storage: str) -> str:
    """The counts by state, then the best value(s) and parameters, aligned."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    counts = {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}
    shown = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    lines = [f"study {study.study_name!r} in {storage}: {len(trials)} trials ({shown or 'none'})"]
    metrics = _metric_names(study)
    for trial in best_trials(study):
        rows = [(metric, _format(value)) for metric, value in zip(metrics, trial.values, strict=True)]
        rows += [(path, _format(value)) for path, value in trial.params.items()]
        rows.append(("steps", str(trial.user_attrs.get("steps", "?"))))
        width = max(len(key) for key, _ in rows)
        lines.append(f"best trial {trial.number}:" if len(metrics) == 1 else f"Pareto-optimal trial {trial.number}:")
        lines += [f"  {key:<{width}}  {value}" for key, value in rows]
    if not best_trials(study):
        lines.append("no trial completed")
    return "\n".join(lines)


def _metric_names(study: Any) -> list[str]:
    names = study.metric_names
    return list(names) if names else [f"value_{i}" for i in range(len(study.directions))]


def _format(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, text)
