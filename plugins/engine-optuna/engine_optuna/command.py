"""``engine tune SPEC``: check everything, open the study, run the workers, write the results."""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import attrs

from engine import EXIT_FAILED, EXIT_OK, EngineError, parallelism_problems, redact_url
from engine.session import RawSpec, Session, Spec, check, parse_duration, read, run_dir_for, structure
from engine_optuna import factories, results
from engine_optuna.objectives import objectives
from engine_optuna.options import DEFAULT_TRIALS, TuneOptions
from engine_optuna.plots import PLOTS_DIR, load_plotting, write_plots
from engine_optuna.resources import PrunerResources, pruner_resources
from engine_optuna.space import grid, parse_space
from engine_optuna.storage import default_storage, is_rdb, open_storage, preload_storage
from engine_optuna.threads import own_threads, shown_threads
from engine_optuna.trial import TRIALS_DIR, TrialRunner
from engine_optuna.worker import REFUSALS_TO_STOP, Budget, repeated_refusal, run_worker
from engine_optuna.workers import (
    Orders,
    Plan,
    dismiss,
    plan_workers,
    planned_workers,
    receive_orders,
    run_workers,
    send_orders,
    start_workers,
    worker_command,
)


@attrs.frozen
class _Tuning:
    """What every worker of ``engine tune`` builds from the spec alone."""

    spec: Spec
    options: TuneOptions
    goals: list[tuple[str, str]]
    search_space: dict[str, list[Any]] | None  # the grid sampler's
    sampler: Any
    pruner: Any
    resources: PrunerResources
    runner: TrialRunner

    @property
    def metrics(self) -> list[str]:
        return [m for m, _ in self.goals]

    def work(self, study: Any, budget: Budget, url: str) -> None:
        """This process's trials of ``study`` until ``budget`` is spent."""
        run_worker(study, self.runner, budget, retries=self.options.retries, heartbeat=is_rdb(url),
                   report=_reporter(self.metrics, self.resources.unit))

    def open_study(self, url: str, name: str) -> Any:
        _quiet_optuna()
        storage = open_storage(url, heartbeat=self.options.heartbeat, retries=self.options.retries)
        return _open_study(storage, name, self.sampler, self.pruner, self.goals, url)


def tune_command(args: argparse.Namespace, session: Session) -> int:
    try:
        return _tune(args, session)
    finally:
        gc.unfreeze()  # what _prepare froze is collectable again in a process that goes on (a test's)


def _tune(args: argparse.Namespace, session: Session) -> int:
    raw = read(args.spec, overrides=args.set)
    if args.worker:
        return _work_as_told(args, session, raw)
    plan = planned_workers(args.workers, raw)
    with own_threads(plan.threads):  # set before the spec's libraries load: this process is worker 0
        return _lead(args, session, raw, plan)


def _lead(args: argparse.Namespace, session: Session, raw: RawSpec, plan: Plan) -> int:
    """The command: start the workers, check the spec, open the study, run trials beside the
    workers, write the results."""
    helpers = start_workers(plan, worker_command(args, session)) if plan.count > 1 else []
    try:  # the workers start up meanwhile
        tuning = _prepare(args, session, raw)
        n_trials, timeout, workers = _budget(args, tuning.options)
        check(tuning.spec)  # a trial's set-up (the tune metric among the backend's), before study.db or a trial
        if tuning.search_space is not None:
            n_trials = min(n_trials, _grid_size(tuning.search_space))
        tune_dir = run_dir_for(tuning.spec)
        url = args.storage or tuning.options.storage or default_storage(tune_dir)
        study_name = args.study or tuning.options.study or tuning.spec.run.name
        study = tuning.open_study(url, study_name)
        _refuse_foreign_trials(study, tune_dir)
    except BaseException:
        dismiss(helpers)
        raise
    if workers != plan.count:  # a worker count only structuring understood: start them now
        dismiss(helpers)
        plan = plan_workers(workers, tuning.options.devices, tuning.options.threads)
        helpers = start_workers(plan, worker_command(args, session))
    devices = plan.devices
    deadline = None if timeout is None else time.time() + timeout
    budget = Budget(n_trials, deadline)

    def conclude() -> int:
        refused = repeated_refusal(study.get_trials(deepcopy=False), n_trials)
        if refused is not None:
            count = min(REFUSALS_TO_STOP, n_trials)
            tune_dir.mkdir(parents=True, exist_ok=True)
            results.write_trials_csv(study, tune_dir / results.TRIALS_CSV)  # the refused trials, for the record
            raise EngineError(f"the first {count} trials were all refused: {refused}", where="tune.space",
                              fix="narrow the search space to values the spec accepts")
        return _finish(study, raw, tune_dir, tuning.spec.run.name, url)

    if workers == 1:
        _say(f"tuning {study_name!r}: {n_trials} trials, storage {redact_url(url)}")
        tuning.work(study, budget, url)
        return conclude()

    shown = shown_threads(plan.threads) + (f", devices {', '.join(devices)}" if devices else "")
    _say(f"tuning {study_name!r}: {n_trials} trials, {workers} workers{shown}, storage {redact_url(url)}")
    concluded: list[int] = []

    def work_then_conclude() -> None:
        """Worker 0's trials, then the results at once if no trial runs elsewhere any more:
        the other workers exit meanwhile (an interpreter's exit takes a few tenths of a second)."""
        from optuna.trial import TrialState

        load_plotting()  # while the other workers start their trials
        gc.freeze()  # matplotlib's objects, as the spec's libraries in _prepare
        tuning.work(study, budget, url)
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            concluded.append(conclude())

    send_orders(helpers, Orders(url, study_name, n_trials, deadline))
    codes = run_workers(helpers, here=load_plotting if devices else work_then_conclude)
    if any(code == 130 for code in codes):
        raise KeyboardInterrupt
    return concluded[0] if concluded else conclude()


def _prepare(args: argparse.Namespace, session: Session, raw: RawSpec) -> _Tuning:
    plugins = session.plugins_for(raw.local_plugins)
    spec = structure(raw, plugins)  # runs engine_check: the space is checked here
    # The backend's libraries are imported now, and stay: frozen for the command, the garbage
    # collector's full passes over every trial's leftovers no longer walk them too (a full pass
    # walked some 300,000 objects with XGBoost, a few times every 100 trials, 2.7 ms a trial on
    # average). Nothing of a trial is frozen: its model and data are made later.
    gc.freeze()
    options = spec.sections.get("tune")
    if not isinstance(options, TuneOptions):
        raise EngineError(f"{args.spec} has no [tune] section",
                          fix="add [tune] with a [tune.space] table (see engine-optuna's README)")
    params, _ = parse_space(options.space)
    goals = objectives(options.metric, options.direction)
    search_space = grid(params)[0] if options.sampler == "grid" else None
    sampler = factories.build_sampler(options.sampler, options.sampler_options, spec.run.seed, search_space)
    resources = pruner_resources(options.pruner, options.pruner_options)  # checked with the spec
    pruner = factories.build_pruner(options.pruner, resources.options)
    runner = TrialRunner(raw, plugins, params, [m for m, _ in goals], options.pruner != "none",
                         run_dir_for(spec), spec.run.name, value=options.value,
                         maximize=goals[0][1] == "maximize", prune_unit=resources.unit,
                         checkpoints=options.checkpoints, export=options.export)
    return _Tuning(spec, options, goals, search_space, sampler, pruner, resources, runner)


def _work_as_told(args: argparse.Namespace, session: Session, raw: RawSpec) -> int:
    """A worker the command started: the same set-up as the command (which checked the spec
    already), then the trials its :class:`Orders` say. It exits without a word when the
    command stopped first, having reported why."""
    try:
        tuning = _prepare(args, session, raw)
    except EngineError:
        if receive_orders() is None:
            return EXIT_OK
        raise
    preload_storage(args.storage or tuning.options.storage or None)  # while the command opens the study
    orders = receive_orders()
    if orders is None:
        return EXIT_OK
    study = tuning.open_study(orders.storage, orders.study)
    tuning.work(study, Budget(orders.n_trials, orders.deadline), orders.storage)
    return EXIT_OK


def _budget(args: argparse.Namespace, options: TuneOptions) -> tuple[int, float | None, int]:
    timeout = options.timeout
    if args.timeout is not None:
        try:
            timeout = parse_duration(args.timeout)
        except ValueError as exc:
            raise EngineError(f"--timeout {args.timeout}: {exc}", fix='pass seconds or a duration like "30 min"') \
                from None
    n_trials = args.trials if args.trials is not None else options.n_trials
    if n_trials is None:
        n_trials = 10**9 if timeout is not None else DEFAULT_TRIALS
    workers = args.workers if args.workers is not None else options.workers
    for flag, value in (("--trials", n_trials), ("--workers", workers)):
        if value < 1:
            raise EngineError(f"{flag} {value}: expected a positive integer", fix=f"pass {flag} 1 or more")
    problems = parallelism_problems({"workers": workers}, where="tune")
    if problems:
        raise EngineError(problems[0])
    return n_trials, timeout, workers


def _grid_size(space: dict[str, list[Any]]) -> int:
    size = 1
    for values in space.values():
        size *= len(values)
    return size


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _open_study(storage: Any, name: str, sampler: Any, pruner: Any, goals: list[tuple[str, str]], url: str) -> Any:
    import optuna

    try:
        study = optuna.create_study(storage=storage, study_name=name, sampler=sampler, pruner=pruner,
                                    directions=[optuna.study.StudyDirection[d.upper()] for _, d in goals],
                                    load_if_exists=True)
    except ValueError as exc:  # an existing study with other directions
        raise EngineError(f"study {name!r} in {redact_url(url)} cannot be resumed: {exc}",
                          fix="choose another --study name, or keep the metrics and directions") from None
    metrics = [m for m, _ in goals]
    if study.metric_names is None:
        study.set_metric_names(metrics)
    elif list(study.metric_names) != metrics:
        raise EngineError(f"study {name!r} optimises {', '.join(study.metric_names)}, the spec {', '.join(metrics)}",
                          where="tune.metric", fix="choose another --study name, or keep the metrics")
    return study


def _refuse_foreign_trials(study: Any, tune_dir: Path) -> None:
    trials_dir = tune_dir / TRIALS_DIR
    # The folder first: a worker starting beside this one registers its trial before it makes
    # the trial's folder, so a folder seen here means the storage already holds that trial.
    if trials_dir.is_dir() and any(trials_dir.iterdir()) and not study.get_trials(deepcopy=False):
        raise EngineError(f"{trials_dir} holds trials of another study",
                          fix="delete it, or choose another run.name or --study that points at that study")


def _reporter(metrics: list[str], unit: str = "steps") -> Any:
    def report(trial: Any) -> None:
        if trial.values:
            shown = "  ".join(f"{m}={v:.6g}" for m, v in zip(metrics, trial.values, strict=True))
        elif trial.user_attrs.get("fail_reason"):
            shown = trial.user_attrs["fail_reason"]
        else:
            last = trial.last_step
            shown = f"at {unit[:-1]} {last}" if last is not None else ""
        params = "  ".join(f"{p}={_short(v)}" for p, v in trial.params.items())
        _say(f"trial {trial.number:>3}  {trial.state.name:<8}  {shown}  {params}  "
             f"({trial.user_attrs.get('steps', '?')} steps)")
    return report


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _finish(study: Any, raw: RawSpec, tune_dir: Path, name: str, url: str) -> int:
    tune_dir.mkdir(parents=True, exist_ok=True)
    results.write_trials_csv(study, tune_dir / results.TRIALS_CSV)
    written = results.write_best_specs(study, raw, tune_dir, name)
    plots = write_plots(study, tune_dir / PLOTS_DIR)
    print(results.summary_table(study, redact_url(url)))
    files = [*written, tune_dir / results.TRIALS_CSV, *plots]
    print("wrote " + ", ".join(str(f) for f in files))
    return EXIT_OK if written else EXIT_FAILED


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
