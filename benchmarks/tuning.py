"""Tuning benchmarks, side by side in one run (not timed tests):

1. throughput: trials per minute of ``engine tune`` against a hand-written Optuna search of the
   same model, each with 1 and 2 worker processes on one machine: over the wall clock, and with
   every worker running (its start-up and wrap-up apart);
2. pruning: compute and time saved by the median pruner at an equal best value (a seeded random
   sampler draws the same values with and without pruning, so the searches are comparable
   trial by trial), the searches alternated ``REPEATS`` times;
3. overhead: the engine's time per trial against a hand-written Optuna loop around the same
   model with the same sampled values — the pure-Python ``testing`` model always, and XGBoost
   on breast cancer when engine-xgboost and engine-tabular are installed. For XGBoost, the same
   searches again with its rounds made no-ops, alternated with them: the difference left is
   what the engine adds to a trial beside its model's work, measured where this machine's
   drift (10-30% over minutes on a shared VM) scales a few milliseconds, not a whole trial.

The hand-written searches are what the Optuna docs show: ``create_study(storage="sqlite:///…")``
for one process, a ``JournalFileBackend`` file shared by several. Their random sampler is
seeded per trial as the engine's is (:func:`engine_optuna.seeding.seeded_per_trial`), so that
trial *i* draws the same values, hence costs the same, in every search. Their rows marked "engine's
storage" use the engine's SQLite settings instead (:func:`engine_optuna.storage.write_ahead`),
so that the difference left is the engine's own.

    python benchmarks/tuning.py [--output benchmarks/results/tuning.md] [--trials N]  (default 40)
                                [--long-trials N]  (default 200)
                                [--sections throughput,pruning,overhead]  (default: all three)
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import dataclasses
import functools
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

REPO = Path(__file__).resolve().parent.parent

TESTING_SPEC = """
[run]
name = "bench"
seed = 0
[loop]
max_steps = {steps}
eval_every = "10 steps"
log_every = "10 steps"
[backend]
use = "testing"
dim = 8
train_size = 256
batch_size = 16
step_seconds = {step_seconds}
[checkpoint]
on_exit = {on_exit}
[tune]
n_trials = {trials}
sampler = "{sampler}"
sampler_options = {{ seed = 3 }}
pruner = "{pruner}"
{pruner_options}
[tune.space]
"backend.lr" = {{ float = [1e-4, 0.3], log = true }}
"backend.noise" = {{ float = [0.0, 0.5] }}
"""

XGBOOST_TUNE = """
[tune]
n_trials = {trials}
metric = "val/logloss"
sampler = "random"
sampler_options = {{ seed = 3 }}
pruner = "{pruner}"
{pruner_options}
[tune.space]
"backend.params.eta" = {{ float = [1e-3, 0.3], log = true }}
"backend.params.max_depth" = {{ int = [2, 6] }}
"""

#: The median pruner's options in every pruned search, the engine's and the hand-written ones.
MEDIAN_OPTIONS = {"n_startup_trials": 3, "n_warmup_steps": 20}
MEDIAN = f"pruner_options = {{ {', '.join(f'{key} = {value}' for key, value in MEDIAN_OPTIONS.items())} }}"


@contextlib.contextmanager
def rounds_skipped() -> Any:
    """XGBoost's rounds made no-ops in this process: what is left of a trial is everything but
    its model's work (data, booster, evaluations, storage, the search's own steps)."""
    import xgboost.core

    update = xgboost.core.Booster.update
    xgboost.core.Booster.update = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        xgboost.core.Booster.update = update  # type: ignore[method-assign]


def engine_without_rounds() -> None:
    """The ``engine`` command (its arguments in ``sys.argv``) under :func:`rounds_skipped`."""
    from engine._core.cli.main import console_script

    with rounds_skipped():
        console_script()


def engine_tune(spec: str, workdir: Path, *args: str, no_rounds: bool = False) -> tuple[float, list[dict[str, str]]]:
    """Run ``engine tune`` in a fresh directory; wall seconds and the rows of trials.csv.
    ``no_rounds``: with XGBoost's rounds made no-ops (:func:`engine_without_rounds`)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / "spec.toml").write_text(spec)
    paths = [str(workdir), str(REPO)] + ([str(Path(__file__).parent)] if no_rounds else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    started = time.perf_counter()
    command = [sys.executable, "-c", "import tuning; tuning.engine_without_rounds()"] if no_rounds \
        else [sys.executable, "-m", "engine"]
    done = subprocess.run([*command, "tune", "spec.toml", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"engine tune failed:\n{done.stderr}")
    with (workdir / "runs" / "bench" / "trials.csv").open() as handle:
        return wall, list(csv.DictReader(handle))


def trial_seconds(rows: list[dict[str, str]]) -> list[float]:
    return [float(r["seconds"]) for r in rows if r["seconds"]]


# --------------------------------------------------------------------------- 1. throughput


@dataclasses.dataclass
class Timeline:
    """Where the wall time of a search went."""

    trials: int
    wall: float  # launch to the last process's exit
    startup: float  # launch to the first trial's start
    wrapup: float  # the last trial's end to the exit
    steady: float  # trials per minute while every worker runs trials


def timeline(storage: Any, name: str, launched: float, ended: float) -> Timeline:
    """The :class:`Timeline` of study ``name``, launched and ended at these ``time.time()`` values.

    Each worker runs its trials one after another, so the trials fall into one chain per worker
    (greedily: each trial follows the chain that freed up last before it started); a chain's
    rate is its trials after the first over the time between its first and last starts, and the
    rates add up to the study's throughput with every worker running.
    """
    study = optuna.load_study(study_name=name, storage=storage)
    finished: list[Any] = [t for t in study.get_trials(deepcopy=False) if t.datetime_complete is not None]
    trials = sorted(finished, key=lambda t: t.datetime_start)
    chains: list[list[Any]] = []
    for trial in trials:
        free = [c for c in chains if c[-1].datetime_complete <= trial.datetime_start]
        if free:
            max(free, key=lambda c: c[-1].datetime_complete).append(trial)
        else:
            chains.append([trial])
    steady = sum((len(c) - 1) / (c[-1].datetime_start - c[0].datetime_start).total_seconds()
                 for c in chains if len(c) > 1) * 60
    first = trials[0].datetime_start.timestamp()
    last = max(t.datetime_complete for t in trials).timestamp()
    return Timeline(len(trials), ended - launched, first - launched, ended - last, steady)


def same_draws() -> Any:
    """The random sampler of the engine's searches here (seed 3), seeded per trial as the engine
    seeds it: trial *i* draws the same values in the hand-written searches as in ``engine tune``."""
    from engine_optuna.seeding import seeded_per_trial

    return seeded_per_trial(lambda seed: optuna.samplers.RandomSampler(seed=seed), 3)


def hand_storage(url: str, engine_settings: bool = False) -> Any:
    """The storage a hand-written search opens: ``sqlite:///…`` as Optuna makes it (or with the
    engine's settings), or a journal file for anything without ``://``."""
    if "://" not in url:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        return JournalStorage(JournalFileBackend(url))
    storage = optuna.storages.RDBStorage(url)
    if engine_settings:
        from engine_optuna.storage import write_ahead

        write_ahead(storage.engine)
    return storage


def hand_processes(model: str, trials: int, url: str, workers: int, engine_settings: bool = False,
                   rounds: int = 300, one_thread: bool = True) -> Timeline:
    """A hand-written search in ``workers`` processes sharing one study, timed from their launch
    to the last exit."""
    name = "hand"
    command = [sys.executable, __file__, "--hand", model, "--storage", url, "--study", name,
               "--trials", str(trials), "--rounds", str(rounds)] + (["--engine-storage"] if engine_settings else []) \
        + ([] if one_thread else ["--threads-unset"])
    if "://" in url:  # an RDB study is made first (the docs' `optuna create-study`): workers creating its tables race
        optuna.create_study(study_name=name, storage=hand_storage(url, engine_settings), sampler=same_draws())
    launched = time.time()
    processes = [subprocess.Popen(command) for _ in range(workers)]
    if any(p.wait() for p in processes):
        raise SystemExit("a hand-written worker failed")
    return timeline(hand_storage(url), name, launched, time.time())


def hand_worker(model: str, trials: int, url: str, name: str, engine_settings: bool, rounds: int,
                one_thread: bool = True) -> None:
    """One process of a hand-written search: trials until the study holds ``trials`` finished ones.
    Every process creates the study or joins it (``load_if_exists``), as the Optuna docs' example
    of several processes on a journal file does."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    objective = XGBOOST_OBJECTIVE(rounds, one_thread) if model == "xgboost" else TESTING_OBJECTIVE(rounds)
    study = optuna.create_study(study_name=name, storage=hand_storage(url, engine_settings), sampler=same_draws(),
                                load_if_exists=True)
    study.optimize(objective, callbacks=[MaxTrialsCallback(trials, states=(TrialState.COMPLETE,))])


#: Each search of the throughput comparison runs this many times, in turn with the others
#: (in :func:`rotated` order); the row shows the run of median wall time.
THROUGHPUT_REPEATS = 3


Search = tuple[str, str, Callable[[int], Timeline]]  # tool, storage, run number -> its timeline


def throughput(root: Path, trials: int, model: str, engine_spec: str) -> list[str]:
    lines = []
    for workers in (1, 2):
        lines += throughput_rows(model, workers, throughput_searches(root, trials, model, engine_spec, workers))
    return lines


def throughput_rows(model: str, workers: int, searches: list[Search]) -> list[str]:
    """A row per search, each run ``THROUGHPUT_REPEATS`` times in turn with the others (in
    :func:`rotated` order)."""
    runs: list[list[Timeline]] = [[] for _ in searches]
    for index in range(THROUGHPUT_REPEATS):
        for which in rotated(len(searches), index):
            runs[which].append(searches[which][2](index))
    lines = []
    for (tool, storage, _), timelines in zip(searches, runs, strict=True):
        t = sorted(timelines, key=lambda timeline: timeline.wall)[len(timelines) // 2]
        lines.append(f"| {model} | {workers} | {tool} | {storage} | {t.trials} | {t.wall:.1f} "
                     f"| {t.trials / t.wall * 60:.0f} | {t.startup:.1f} | {t.wrapup:.1f} | {t.steady:.0f} "
                     f"| {min(x.steady for x in timelines):.0f}–{max(x.steady for x in timelines):.0f} |")
    return lines


def threads_throughput(root: Path, trials: int) -> list[str]:
    """Two workers of XGBoost with its threads left to it (no ``nthread``, as the example and
    most objectives write it): hand-written processes each take every core; ``engine tune``
    shares the cores out (``[tune] threads = "auto"``), or, with ``threads`` set to the cores,
    lets each worker take them all as it did before."""
    cores = os.cpu_count() or 1
    spec = xgboost_spec(trials, one_thread=False)
    every_core = spec.replace("\n[tune]\n", f"\n[tune]\nthreads = {cores}\n", 1)
    model = "xgboost, threads unset"
    searches: list[Search] = [
        ("hand-written", "Optuna docs'", lambda i: hand_processes(
            "xgboost", trials, str(root / f"tp-threads-{i}.journal"), 2, one_thread=False)),
        ("engine tune", "engine's", lambda i: engine_throughput(spec, root / f"tp-threads-auto-{i}", 2)),
        (f"engine tune, threads = {cores}", "engine's",
         lambda i: engine_throughput(every_core, root / f"tp-threads-all-{i}", 2)),
    ]
    return throughput_rows(model, 2, searches)


def long_throughput(root: Path, trials: int) -> list[str]:
    """Two workers over a longer XGBoost study, where a study's fixed costs (start-up and
    wrap-up) weigh less against its trials: the hand-written pair on a journal file against
    ``engine tune``."""
    searches = [search for search in throughput_searches(root, trials, "xgboost", xgboost_spec(trials), 2)
                if search[:2] != ("hand-written", "engine's")]
    return throughput_rows(f"xgboost, {trials} trials", 2, searches)


def throughput_searches(root: Path, trials: int, model: str, engine_spec: str, workers: int) -> list[Search]:
    """The three searches of a throughput row group: (tool, storage, run number -> its timeline)."""
    docs = (lambda i: f"sqlite:///{root}/tp-hand-{model}-1-{trials}-{i}.db") if workers == 1 else \
        (lambda i: str(root / f"tp-hand-{model}-2-{trials}-{i}.journal"))
    return [
        ("hand-written", "Optuna docs'", lambda i: hand_processes(model, trials, docs(i), workers)),
        ("hand-written", "engine's", lambda i: hand_processes(
            model, trials, f"sqlite:///{root}/tp-hand-{model}-{workers}-{trials}-e{i}.db", workers,
            engine_settings=True)),
        ("engine tune", "engine's", lambda i: engine_throughput(
            engine_spec, root / f"tp-{model}-{workers}-{trials}-{i}", workers)),
    ]


def engine_throughput(spec: str, workdir: Path, workers: int) -> Timeline:
    launched = time.time()
    engine_tune(spec, workdir, "--workers", str(workers))
    ended = time.time()
    storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / 'runs' / 'bench' / 'study.db'}")
    return timeline(storage, "bench", launched, ended)


# --------------------------------------------------------------------------- 2. pruning


REPEATS = 3


#: A search of the pruning comparison: run number -> (wall seconds, rows as in trials.csv: number,
#: state, the metric, steps, seconds).
PruningSearch = Callable[[int], tuple[float, list[dict[str, str]]]]


def engine_pruning(root: Path, name: str, make_spec: Callable[[str, str], str]) -> dict[str, PruningSearch]:
    """``engine tune`` without a pruner and with the median pruner (:data:`MEDIAN`)."""
    def search(pruner: str, options: str, index: int) -> tuple[float, list[dict[str, str]]]:
        return engine_tune(make_spec(pruner, options), root / f"pruning-{name}-{pruner}-{index}")

    return {pruner: functools.partial(search, pruner, options)
            for pruner, options in (("none", ""), ("median", MEDIAN))}


def pruning(groups: list[tuple[str, dict[str, PruningSearch]]]) -> list[str]:
    """For each group, one row per pruner, then what pruning saved.

    Every search of every group runs in turn ``REPEATS`` times (in :func:`rotated` order); a
    trial's time is its median over the repeats. The seeded sampler draws the same values for
    trial *i* in every search, so trial *i* without the pruner tells what trial *i* with it
    should cost: its unpruned time times the fraction of its steps the pruner left it. "Time
    saved / steps saved" counts every step alike; "weighted by each trial's step cost" compares
    the time saved with that expectation, so that pruning cheap or costly trials does not read
    as overhead.
    """
    runs: dict[tuple[str, str], list[tuple[float, list[dict[str, str]]]]] = {}
    every = [(name, pruner, search) for name, searches in groups for pruner, search in searches.items()]
    for index in range(REPEATS):
        for which in rotated(len(every), index):
            name, pruner, search = every[which]
            runs.setdefault((name, pruner), []).append(search(index))
    out = []
    for name, searches in groups:
        out += pruning_rows(name, {pruner: runs[name, pruner] for pruner in searches})
    return out


def pruning_rows(name: str, runs: dict[str, list[tuple[float, list[dict[str, str]]]]]) -> list[str]:
    out, seconds, steps = [], {}, {}
    for pruner, repeats in runs.items():
        rows = repeats[0][1]
        metric = list(rows[0])[2]
        best = min(float(r[metric]) for r in rows if r["state"] == "COMPLETE")
        steps[pruner] = {int(r["number"]): int(r["steps"]) for r in rows}
        seconds[pruner] = {number: statistics.median(float(r["seconds"]) for _, rs in repeats for r in rs
                                                     if int(r["number"]) == number) for number in steps[pruner]}
        wall = statistics.median(w for w, _ in repeats)
        pruned = sum(r["state"] == "PRUNED" for r in rows)
        out.append(f"| {name} | {pruner} | {len(rows)} | {pruned} | {sum(steps[pruner].values())} "
                   f"| {sum(seconds[pruner].values()):.2f} | {wall:.1f} | {best:.6g} |")
    numbers = sorted(set(steps["none"]) & set(steps["median"]))
    steps_saved = 1 - sum(steps["median"][n] for n in numbers) / sum(steps["none"][n] for n in numbers)
    time_none = sum(seconds["none"][n] for n in numbers)
    saved = time_none - sum(seconds["median"][n] for n in numbers)
    expected = sum(seconds["none"][n] * (1 - steps["median"][n] / steps["none"][n]) for n in numbers)
    out.append(f"| {name} | saved | | | {steps_saved:.0%} | {saved / time_none:.0%} | | time saved / steps saved "
               f"= {saved / time_none / steps_saved:.2f}; weighted by each trial's step cost = {saved / expected:.2f}"
               f" ({(expected - saved) / len(numbers) * 1000:+.1f} ms per trial) |")
    return out


def hand_pruning(trials: int, url: Callable[[str, int], str] | None = None) -> dict[str, PruningSearch]:
    """The XGBoost search written with Optuna alone, without a pruner and with the median pruner
    as the Optuna docs' pruning example writes it (``trial.report`` at each evaluation, then
    ``should_prune``), on a study in memory as there, or on the SQLite file ``url(pruner, run)``
    with the engine's settings (what several processes need): there each report is a
    transaction of its own."""
    def search(pruner: str, index: int) -> tuple[float, list[dict[str, str]]]:
        steps: dict[int, int] = {}
        objective = XGBOOST_OBJECTIVE(300, prune=pruner == "median", steps=steps)
        chosen = optuna.pruners.MedianPruner(**MEDIAN_OPTIONS) if pruner == "median" else optuna.pruners.NopPruner()
        storage = None if url is None else hand_storage(url(pruner, index), engine_settings=True)
        study = optuna.create_study(storage=storage, sampler=same_draws(), pruner=chosen)
        started = time.perf_counter()
        study.optimize(objective, n_trials=trials)
        wall = time.perf_counter() - started
        return wall, [{"number": str(t.number), "state": t.state.name, "val/logloss": str(t.value or ""),
                       "steps": str(steps[t.number]), "seconds": str(t.duration.total_seconds() if t.duration else "")}
                      for t in study.trials]

    return {pruner: functools.partial(search, pruner) for pruner in ("none", "median")}


# --------------------------------------------------------------------------- 3. overhead


def TESTING_OBJECTIVE(steps: int) -> Callable[[optuna.Trial], float]:  # noqa: N802 - a factory, named as its result
    """Optuna alone around the engine's pure-Python model: no spec, no run directory, no loop.

    Like the engine without a pruner, it evaluates every 10 steps and reports nothing to Optuna.
    """
    from engine.testing.backend import TestingBackend, TestingBackendOptions

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("backend.lr", 1e-4, 0.3, log=True)
        noise = trial.suggest_float("backend.noise", 0.0, 0.5)
        backend = TestingBackend(TestingBackendOptions(dim=8, train_size=256, batch_size=16, lr=lr, noise=noise))
        run: Any = types.SimpleNamespace(seed=0, fold=None, step=0, epoch=0, step_in_epoch=0, components={})
        backend.setup(run)
        value = float("nan")
        for step in range(1, steps + 1):
            backend.train_step(run)
            run.step, run.step_in_epoch = step, run.step_in_epoch + 1
            if run.step_in_epoch == backend.steps_per_epoch:
                run.epoch, run.step_in_epoch = run.epoch + 1, 0
            if step % 10 == 0:
                backend.train_metrics()
                value = backend.evaluate(run)["val/loss"]
        return value

    return objective


def XGBOOST_OBJECTIVE(rounds: int, one_thread: bool = True, prune: bool = False,  # noqa: N802 - a factory, named as its result
                      steps: dict[int, int] | None = None) -> Callable[[optuna.Trial], float]:
    """The same XGBoost search written with Optuna and xgboost alone (data loaded once). It trains
    on the rows the engine's spec trains on (its seeded, stratified 20% hold-out): which rows a
    tree sees changes what a round costs by several per cent. One thread, or XGBoost's default
    (every core) with ``one_thread=False``. ``prune``: each evaluation is reported to the study
    and the trial asks whether to stop, as the Optuna docs' pruning example does; the rounds
    each trial ran go into ``steps`` (trial number -> rounds)."""
    import xgboost as xgb
    from engine_tabular.split import holdout
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    train_rows, val_rows = holdout(len(y), 0.2, 0, labels=y)
    x_train, x_val, y_train, y_val = x[train_rows], x[val_rows], y[train_rows], y[val_rows]
    threads = {"nthread": 1} if one_thread else {}

    def objective(trial: optuna.Trial) -> float:
        params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "seed": 0,
                  "eta": trial.suggest_float("backend.params.eta", 1e-3, 0.3, log=True),
                  "max_depth": trial.suggest_int("backend.params.max_depth", 2, 6), **threads}
        train, val = xgb.DMatrix(x_train, label=y_train), xgb.DMatrix(x_val, label=y_val)
        booster = xgb.Booster(params, [train, val])
        value = float("nan")
        for round_ in range(rounds):
            booster.update(train, round_)
            if (round_ + 1) % 10 == 0:
                text = booster.eval_set([(train, "train"), (val, "val")], round_)
                value = float(text.split("val-logloss:")[1].split()[0])
                if prune:
                    trial.report(value, round_ + 1)
                    if trial.should_prune():
                        if steps is not None:
                            steps[trial.number] = round_ + 1
                        raise optuna.TrialPruned()
        if steps is not None:
            steps[trial.number] = rounds
        return value

    return objective


def hand_study(objective: Callable[[optuna.Trial], float], trials: int, url: str,
               engine_settings: bool = False, no_rounds: bool = False) -> list[float]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(storage=hand_storage(url, engine_settings), sampler=same_draws())
    with rounds_skipped() if no_rounds else contextlib.nullcontext():
        study.optimize(objective, n_trials=trials)
    return [t.duration.total_seconds() for t in study.trials if t.duration is not None]


#: Each search of the per-trial comparison runs this many times, a third of the trials each:
#: a shared machine's speed changes over tens of seconds (the same hand-written XGBoost search
#: measured 239 and 282 ms a trial in two blocks of 40 trials), so short turns spread it evenly.
ALTERNATIONS = 9


def rotated(count: int, turn: int) -> list[int]:
    """The order of ``count`` searches in turn ``turn``: each turn starts one search later (A B C,
    B C A, C A B, ...), so that no search always runs right after the same other one (on this
    machine the same search measured 121 and 141 ms a trial by its place in the turn)."""
    return [(turn + offset) % count for offset in range(count)]


def alternate(searches: list[Callable[[int], list[float]]]) -> list[list[list[float]]]:
    """Per-trial seconds of each search in each turn, the searches run in turn ``ALTERNATIONS``
    times (in :func:`rotated` order) so a change in the machine's load hits all; the first trial
    of each search is left out (the engine's worker imports its libraries then; the hand-written
    searches import them up front)."""
    times: list[list[list[float]]] = [[] for _ in searches]
    for index in range(ALTERNATIONS):
        for which in rotated(len(searches), index):
            times[which].append(searches[which](index)[1:])
    return times


def overhead_rows(name: str, engine_turns: list[list[float]], hand_turns: list[list[float]],
                  same_turns: list[list[float]]) -> list[str]:
    e = statistics.median(t for turn in engine_turns for t in turn)
    rows = []
    for storage, turns in (("Optuna's default", hand_turns), ("engine's", same_turns)):
        h = statistics.median(t for turn in turns for t in turn)
        rows.append(f"| {name} | {storage} | {sum(map(len, turns))} | {h * 1000:.0f} | {e * 1000:.0f} "
                    f"| {(e - h) * 1000:+.0f} | {(e / h - 1) * 100:+.1f}% |")
    return rows


def overhead(root: Path, name: str, spec: str, objective: Callable[[optuna.Trial], float], trials: int,
             key: str, *, own_cost: bool = False) -> list[str]:
    """Rows of trial times, the engine's against the hand-written loop's. ``own_cost`` (XGBoost):
    the three searches again with XGBoost's rounds made no-ops, alternated with them, and what
    the engine adds to a trial beside its model's work, over the hand-written trial's time."""
    def searches(no_rounds: bool) -> list[Callable[[int], list[float]]]:
        tag = f"{key}{'-0' if no_rounds else ''}"
        return [
            lambda i: trial_seconds(engine_tune(spec, root / f"overhead-{tag}-{i}", "--storage",
                                                f"sqlite:///{root}/o-{tag}-e{i}.db", no_rounds=no_rounds)[1]),
            lambda i: hand_study(objective, trials, f"sqlite:///{root}/o-{tag}-h{i}.db", no_rounds=no_rounds),
            lambda i: hand_study(objective, trials, f"sqlite:///{root}/o-{tag}-s{i}.db", engine_settings=True,
                                 no_rounds=no_rounds),
        ]

    turns = alternate(searches(False) + (searches(True) if own_cost else []))
    rows = overhead_rows(name, *turns[:3])
    if own_cost:
        rows += overhead_rows(f"{name}, rounds made no-ops", *turns[3:])
        rows += own_cost_rows(name, turns)
    return rows


def own_cost_rows(name: str, turns: list[list[list[float]]]) -> list[str]:
    """The engine's own cost per trial: its trial time less the hand-written loop's, both with
    the model's rounds made no-ops, over the hand-written trial's full time (the median over
    turns, and the range of the turns' own figures)."""
    hands_full = turns[1:3]
    engine_bare, *hands_bare = turns[3:]
    rows = []
    for storage, full, bare in zip(("Optuna's default", "engine's"), hands_full, hands_bare, strict=True):
        added = [statistics.median(e) - statistics.median(h) for e, h in zip(engine_bare, bare, strict=True)]
        ratios = [a / statistics.median(f) for a, f in zip(added, full, strict=True)]
        whole = statistics.median(t for turn in full for t in turn)
        spread = f"{min(added) * 1000:+.1f} to {max(added) * 1000:+.1f}"
        shares = f"{min(ratios) * 100:+.1f}% to {max(ratios) * 100:+.1f}%"
        rows.append(f"| {name}: the engine's own cost | {storage} | {len(added)} turns | {whole * 1000:.0f} | "
                    f"| {statistics.median(added) * 1000:+.1f} ({spread}) | {statistics.median(ratios) * 100:+.1f}% "
                    f"({shares}) |")
    return rows


def _has(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


def testing_spec(trials: int, pruner: str = "none", pruner_options: str = "", *, on_exit: bool = False,
                 step_seconds: float = 0.0) -> str:
    """The testing backend's study: 300 steps a trial, random sampler."""
    return TESTING_SPEC.format(steps=300, trials=trials, sampler="random", pruner=pruner,
                               pruner_options=pruner_options, on_exit=str(on_exit).lower(), step_seconds=step_seconds)


def xgboost_spec(trials: int, pruner: str = "none", pruner_options: str = "", lean: bool = True,
                 one_thread: bool = True) -> str:
    """The XGBoost example as a study: one thread (or XGBoost's default with ``one_thread=False``);
    for timing, no checkpoint or early stop."""
    example = (REPO / "examples" / "breast_cancer_xgboost.toml").read_text().replace(
        'name = "breast-cancer-xgboost"', 'name = "bench"')
    if lean:
        example = example.replace("[early_stop]", "[unused_early_stop]").split("[unused_early_stop]")[0] + "\n"
        example = example.replace('checkpoint_every = "100 steps"', 'checkpoint_every = "never"')
        example = example.replace("[checkpoint]", "[checkpoint]\non_exit = false")
    else:
        example = example.replace("patience = 5", "patience = 100")
    if one_thread:
        example = example.replace("max_depth = 3,", "max_depth = 3, nthread = 1,")
    return example + XGBOOST_TUNE.format(trials=trials, pruner=pruner, pruner_options=pruner_options)


def throughput_section(root: Path, trials: int, long_trials: int, xgb_ok: bool) -> list[str]:
    rows = ["| model | workers | search | storage | trials | wall (s) | trials / min (wall) | start-up (s) "
            "| wrap-up (s) | trials / min, every worker running | same, range of the runs |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    rows += throughput(root, trials, "testing", testing_spec(trials))
    if xgb_ok:
        rows += throughput(root, trials, "xgboost", xgboost_spec(trials))
        rows += threads_throughput(root, trials)
        if long_trials:
            rows += long_throughput(root, long_trials)
    return [f"## Throughput (300 steps or rounds per trial, random sampler, no pruner; the run of median wall "
            f"time of {THROUGHPUT_REPEATS}, the searches in turn)", "", *rows, ""]


def pruning_section(root: Path, trials: int, xgb_ok: bool) -> list[str]:
    rows = ["| search | pruner | trials | pruned | steps run | trial seconds | wall (s) | best value |",
            "|---|---|---|---|---|---|---|---|"]
    groups = []
    for label, step_seconds in (("testing, free steps", 0.0), ("testing, 0.5 ms steps", 0.0005)):
        def pruned_spec(pruner: str, options: str, seconds: float = step_seconds) -> str:
            return testing_spec(trials, pruner, options, on_exit=True, step_seconds=seconds)

        groups.append((label, engine_pruning(root, label, pruned_spec)))
    if xgb_ok:
        groups.append(("breast cancer (xgboost)", engine_pruning(
            root, "xgboost", lambda p, o: xgboost_spec(trials, p, o, lean=False))))
        groups.append(("breast cancer (xgboost), hand-written, in memory", hand_pruning(trials)))
        groups.append(("breast cancer (xgboost), hand-written, SQLite", hand_pruning(
            trials, lambda pruner, index: f"sqlite:///{root}/pruning-hand-{pruner}-{index}.db")))
    rows += pruning(groups)
    return [f"## Compute saved by pruning (random sampler, seed 3: same values drawn either way; "
            f"median of {REPEATS} alternated runs)", "", *rows, ""]


def overhead_section(root: Path, trials: int, xgb_ok: bool) -> list[str]:
    table = ["| model | hand-written storage | trials | hand-written ms / trial | engine ms / trial | difference "
             "| overhead |", "|---|---|---|---|---|---|---|"]
    turn = max(4, trials // 3)  # trials per turn of the alternation
    table += overhead(root, "testing backend, 300 steps", testing_spec(turn), TESTING_OBJECTIVE(300), turn, "testing")
    if xgb_ok:
        table += overhead(root, "XGBoost, breast cancer, 300 rounds", xgboost_spec(turn),
                          XGBOOST_OBJECTIVE(300), turn, "xgb", own_cost=True)
    return [f"## Per-trial time: engine vs a hand-written Optuna loop (median of trial durations; "
            f"{ALTERNATIONS} alternated turns of {turn} trials)", "", *table, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", default=str(REPO / "benchmarks" / "results" / "tuning.md"))
    parser.add_argument("--trials", type=int, default=40, help="trials per search (default 40)")
    parser.add_argument("--long-trials", type=int, default=200, metavar="N",
                        help="trials of the longer 2-worker XGBoost study (default 200; 0: none)")
    parser.add_argument("--sections", default="throughput,pruning,overhead",
                        help="which sections to run, comma-separated (default: all three)")
    parser.add_argument("--hand", choices=["testing", "xgboost"], help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    parser.add_argument("--study", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--engine-storage", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads-unset", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hand:
        hand_worker(args.hand, args.trials, args.storage, args.study, args.engine_storage, args.rounds,
                    one_thread=not args.threads_unset)
        return
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    trials = args.trials
    xgb_ok = _has("engine_xgboost", "engine_tabular", "xgboost", "sklearn")
    root = Path(tempfile.mkdtemp(prefix="engine-tuning-bench-"))
    atexit.register(shutil.rmtree, root, True)  # some 400 trial folders and studies
    started = time.time()

    chosen = set(args.sections.split(","))
    unknown = chosen - {"throughput", "pruning", "overhead"}
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))} (choose throughput, pruning, overhead)")
    sections: list[str] = []
    if "throughput" in chosen:
        sections += throughput_section(root, trials, args.long_trials, xgb_ok)
    if "pruning" in chosen:
        sections += pruning_section(root, trials, xgb_ok)
    if "overhead" in chosen:
        sections += overhead_section(root, trials, xgb_ok)

    machine = _machine()
    header = [
        "# Tuning benchmarks (engine-optuna)", "",
        f"Produced by `python benchmarks/tuning.py` in {time.time() - started:.0f} s on {machine}; "
        f"Python {platform.python_version()}, Optuna {optuna.__version__}, {trials} trials per search; "
        f"the engine's default storage (SQLite, write-ahead log) unless stated.", "",
    ]
    text = "\n".join(header + sections)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")
    print(text)


def _machine() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in io.StringIO(lines):
            if line.startswith("Model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} CPUs visible)"
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
