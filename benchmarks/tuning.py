"""Tuning benchmarks, side by side in one run (not timed tests):

1. throughput: trials per minute of ``engine tune`` against a hand-written Optuna search of the
   same model, each with 1 and 2 worker processes on one machine;
2. pruning: compute and time saved by the median pruner at an equal best value (a seeded random
   sampler draws the same values with and without pruning, so the searches are comparable);
3. overhead: the engine's time per trial against a hand-written Optuna loop around the same
   model with the same sampled values — the pure-Python ``testing`` model always, and XGBoost
   on breast cancer when engine-xgboost and engine-tabular are installed.

The hand-written searches are what the Optuna docs show: ``create_study(storage="sqlite:///…")``
for one process, a ``JournalFileBackend`` file shared by several. Their rows marked "engine's
storage" use the engine's SQLite settings instead (:func:`engine_optuna.storage.write_ahead`),
so that the difference left is the engine's own.

    python benchmarks/tuning.py [--output benchmarks/results/tuning.md] [--trials N]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import platform
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

MEDIAN = "pruner_options = { n_startup_trials = 3, n_warmup_steps = 20 }"


def engine_tune(spec: str, workdir: Path, *args: str) -> tuple[float, list[dict[str, str]]]:
    """Run ``engine tune`` in a fresh directory; wall seconds and the rows of trials.csv."""
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / "spec.toml").write_text(spec)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)])}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine", "tune", "spec.toml", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"engine tune failed:\n{done.stderr}")
    with (workdir / "runs" / "bench" / "trials.csv").open() as handle:
        return wall, list(csv.DictReader(handle))


def trial_seconds(rows: list[dict[str, str]]) -> list[float]:
    return [float(r["seconds"]) for r in rows if r["seconds"]]


# --------------------------------------------------------------------------- 1. throughput


def study_span(storage: Any, name: str) -> float:
    """Seconds from the first trial's start to the last trial's end: the search itself,
    without the process start-up and the results written after it."""
    study = optuna.load_study(study_name=name, storage=storage)
    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_complete is not None]
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()


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
                   rounds: int = 300) -> tuple[float, float, int]:
    """A hand-written search in ``workers`` processes sharing one study: wall seconds from launch
    to the last exit, the study's span, and the trials it holds."""
    name = "hand"
    command = [sys.executable, __file__, "--hand", model, "--storage", url, "--study", name,
               "--trials", str(trials), "--rounds", str(rounds)] + (["--engine-storage"] if engine_settings else [])
    optuna.create_study(study_name=name, storage=hand_storage(url, engine_settings),
                        sampler=optuna.samplers.RandomSampler(seed=3))
    started = time.perf_counter()
    processes = [subprocess.Popen(command) for _ in range(workers)]
    if any(p.wait() for p in processes):
        raise SystemExit("a hand-written worker failed")
    wall = time.perf_counter() - started
    storage = hand_storage(url)
    done = len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))
    return wall, study_span(storage, name), done


def hand_worker(model: str, trials: int, url: str, name: str, engine_settings: bool, rounds: int) -> None:
    """One process of a hand-written search: trials until the study holds ``trials`` finished ones."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    objective = XGBOOST_OBJECTIVE(rounds) if model == "xgboost" else TESTING_OBJECTIVE(rounds)
    study = optuna.load_study(study_name=name, storage=hand_storage(url, engine_settings),
                              sampler=optuna.samplers.RandomSampler())
    study.optimize(objective, callbacks=[MaxTrialsCallback(trials, states=(TrialState.COMPLETE,))])


def throughput(root: Path, trials: int, model: str, engine_spec: str) -> list[str]:
    lines = []
    for workers in (1, 2):
        docs_url = f"sqlite:///{root}/tp-hand-{model}-1.db" if workers == 1 else \
            str(root / f"tp-hand-{model}-2.journal")
        searches = [
            ("hand-written", "Optuna docs'", hand_processes(model, trials, docs_url, workers)),
            ("hand-written", "engine's", hand_processes(model, trials, f"sqlite:///{root}/tp-hand-{model}-{workers}-e.db",
                                                        workers, engine_settings=True)),
            ("engine tune", "engine's", engine_throughput(engine_spec, root / f"tp-{model}-{workers}", workers)),
        ]
        for tool, storage, (wall, span, done) in searches:
            lines.append(f"| {model} | {workers} | {tool} | {storage} | {done} | {wall:.1f} | {span:.1f} "
                         f"| {done / span * 60:.0f} | {done / wall * 60:.0f} |")
    return lines


def engine_throughput(spec: str, workdir: Path, workers: int) -> tuple[float, float, int]:
    wall, rows = engine_tune(spec, workdir, "--workers", str(workers))
    storage = optuna.storages.RDBStorage(f"sqlite:///{workdir / 'runs' / 'bench' / 'study.db'}")
    return wall, study_span(storage, "bench"), len(rows)


# --------------------------------------------------------------------------- 2. pruning


def pruning(root: Path, name: str, make_spec: Callable[[str, str], str]) -> list[str]:
    """One row per pruner; the last row compares the time saved with the steps saved."""
    out, runs = [], []
    for pruner, options in (("none", ""), ("median", MEDIAN)):
        wall, rows = engine_tune(make_spec(pruner, options), root / f"pruning-{name}-{pruner}")
        metric = list(rows[0])[2]
        finished = [r for r in rows if r["state"] == "COMPLETE"]
        best = min(float(r[metric]) for r in finished)
        steps = sum(int(r["steps"]) for r in rows)
        seconds = sum(trial_seconds(rows))
        pruned = sum(r["state"] == "PRUNED" for r in rows)
        runs.append((steps, seconds))
        out.append(f"| {name} | {pruner} | {len(rows)} | {pruned} | {steps} | {seconds:.2f} | {wall:.1f} "
                   f"| {best:.6g} |")
    (steps_none, seconds_none), (steps_median, seconds_median) = runs
    saved_steps, saved_time = 1 - steps_median / steps_none, 1 - seconds_median / seconds_none
    out.append(f"| {name} | saved | | | {saved_steps:.0%} | {saved_time:.0%} | | time saved / steps saved "
               f"= {saved_time / saved_steps:.2f} |")
    return out


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


def XGBOOST_OBJECTIVE(rounds: int) -> Callable[[optuna.Trial], float]:  # noqa: N802 - a factory, named as its result
    """The same XGBoost search written with Optuna and xgboost alone (data loaded once)."""
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)

    def objective(trial: optuna.Trial) -> float:
        params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc"], "seed": 0, "nthread": 1,
                  "eta": trial.suggest_float("backend.params.eta", 1e-3, 0.3, log=True),
                  "max_depth": trial.suggest_int("backend.params.max_depth", 2, 6)}
        train, val = xgb.DMatrix(x_train, label=y_train), xgb.DMatrix(x_val, label=y_val)
        booster = xgb.Booster(params, [train, val])
        value = float("nan")
        for round_ in range(rounds):
            booster.update(train, round_)
            if (round_ + 1) % 10 == 0:
                text = booster.eval_set([(train, "train"), (val, "val")], round_)
                value = float(text.split("val-logloss:")[1].split()[0])
        return value

    return objective


def hand_study(objective: Callable[[optuna.Trial], float], trials: int, url: str,
               engine_settings: bool = False) -> list[float]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(storage=hand_storage(url, engine_settings),
                                sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=trials)
    return [t.duration.total_seconds() for t in study.trials if t.duration is not None]


ALTERNATIONS = 3


def alternate(searches: list[Callable[[int], list[float]]]) -> list[list[float]]:
    """Per-trial seconds of each search, run in turn ``ALTERNATIONS`` times (A B C A B C ...) so
    a change in the machine's load hits all; the first trial of each search is left out (the
    engine's worker imports its libraries then; the hand-written searches import them up front)."""
    times: list[list[float]] = [[] for _ in searches]
    for index in range(ALTERNATIONS):
        for collected, search in zip(times, searches, strict=True):
            collected += search(index)[1:]
    return times


def overhead_rows(name: str, engine_times: list[float], hand: list[float], hand_same: list[float]) -> list[str]:
    e = statistics.median(engine_times)
    rows = []
    for storage, times in (("Optuna's default", hand), ("engine's", hand_same)):
        h = statistics.median(times)
        rows.append(f"| {name} | {storage} | {len(times)} | {h * 1000:.0f} | {e * 1000:.0f} "
                    f"| {(e - h) * 1000:+.0f} | {(e / h - 1) * 100:+.1f}% |")
    return rows


def overhead(root: Path, name: str, spec: str, objective: Callable[[optuna.Trial], float], trials: int,
             key: str) -> list[str]:
    engine_times, hand, hand_same = alternate([
        lambda i: trial_seconds(engine_tune(spec, root / f"overhead-{key}-{i}", "--storage",
                                            f"sqlite:///{root}/o-{key}-e{i}.db")[1]),
        lambda i: hand_study(objective, trials, f"sqlite:///{root}/o-{key}-h{i}.db"),
        lambda i: hand_study(objective, trials, f"sqlite:///{root}/o-{key}-s{i}.db", engine_settings=True),
    ])
    return overhead_rows(name, engine_times, hand, hand_same)


def _has(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


def xgboost_spec(trials: int, pruner: str = "none", pruner_options: str = "", lean: bool = True) -> str:
    """The XGBoost example as a study: one thread; for timing, no checkpoint or early stop."""
    example = (REPO / "examples" / "breast_cancer_xgboost.toml").read_text().replace(
        'name = "breast-cancer-xgboost"', 'name = "bench"')
    if lean:
        example = example.replace("[early_stop]", "[unused_early_stop]").split("[unused_early_stop]")[0] + "\n"
        example = example.replace('checkpoint_every = "100 steps"', 'checkpoint_every = "never"')
        example = example.replace("[checkpoint]", "[checkpoint]\non_exit = false")
    else:
        example = example.replace("patience = 5", "patience = 100")
    example = example.replace("max_depth = 3,", "max_depth = 3, nthread = 1,")
    return example + XGBOOST_TUNE.format(trials=trials, pruner=pruner, pruner_options=pruner_options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", default=str(REPO / "benchmarks" / "results" / "tuning.md"))
    parser.add_argument("--trials", type=int, default=20, help="trials per search (default 20)")
    parser.add_argument("--hand", choices=["testing", "xgboost"], help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    parser.add_argument("--study", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--engine-storage", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hand:
        hand_worker(args.hand, args.trials, args.storage, args.study, args.engine_storage, args.rounds)
        return
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    trials = args.trials
    xgb_ok = _has("engine_xgboost", "engine_tabular", "xgboost", "sklearn")
    root = Path(tempfile.mkdtemp(prefix="engine-tuning-bench-"))
    started = time.time()

    testing = TESTING_SPEC.format(steps=300, trials=trials, sampler="random", pruner="none", pruner_options="",
                                  on_exit="false")
    rows = ["| model | workers | search | storage | trials | wall (s) | search span (s) "
            "| trials / min (span) | trials / min (wall) |", "|---|---|---|---|---|---|---|---|---|"]
    rows += throughput(root, trials, "testing", testing)
    if xgb_ok:
        rows += throughput(root, trials, "xgboost", xgboost_spec(trials))
    sections = ["## Throughput (300 steps or rounds per trial, random sampler, no pruner)", "", *rows, ""]

    rows = ["| search | pruner | trials | pruned | steps run | trial seconds | wall (s) | best value |",
            "|---|---|---|---|---|---|---|---|"]
    rows += pruning(root, "testing", lambda p, o: TESTING_SPEC.format(
        steps=300, trials=trials, sampler="random", pruner=p, pruner_options=o, on_exit="true"))
    if xgb_ok:
        rows += pruning(root, "breast cancer (xgboost)", lambda p, o: xgboost_spec(trials, p, o, lean=False))
    sections += ["## Compute saved by pruning (random sampler, seed 3: same values drawn either way)", "", *rows, ""]

    table = ["| model | hand-written storage | trials | hand-written ms / trial | engine ms / trial | difference "
             "| overhead |", "|---|---|---|---|---|---|---|"]
    table += overhead(root, "testing backend, 300 steps", testing, TESTING_OBJECTIVE(300), trials, "testing")
    if xgb_ok:
        table += overhead(root, "XGBoost, breast cancer, 300 rounds", xgboost_spec(trials),
                          XGBOOST_OBJECTIVE(300), trials, "xgb")
    sections += ["## Per-trial time: engine vs a hand-written Optuna loop (median of trial durations)", "",
                 *table, ""]

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
