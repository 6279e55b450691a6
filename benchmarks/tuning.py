"""Tuning benchmarks, side by side in one run (not timed tests):

1. throughput: trials per minute of ``engine tune`` with 1 and 2 worker processes;
2. pruning: compute saved by the median pruner at an equal best value (a seeded random
   sampler draws the same values with and without pruning, so the searches are comparable);
3. overhead: the engine's time per trial against a hand-written Optuna loop around the same
   model with the same sampled values — the pure-Python ``testing`` model always, and XGBoost
   on breast cancer when engine-xgboost and engine-tabular are installed.

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


def throughput(root: Path, trials: int) -> list[str]:
    spec = TESTING_SPEC.format(steps=300, trials=trials, sampler="tpe", pruner="none", pruner_options="",
                               on_exit="true")
    lines = ["| workers | trials | wall (s) | trials / minute |", "|---|---|---|---|"]
    for workers in (1, 2):
        wall, rows = engine_tune(spec, root / f"throughput-{workers}", "--workers", str(workers))
        lines.append(f"| {workers} | {len(rows)} | {wall:.1f} | {len(rows) / wall * 60:.1f} |")
    return lines


# --------------------------------------------------------------------------- 2. pruning


def pruning(root: Path, name: str, make_spec: Callable[[str, str], str]) -> list[str]:
    out = []
    for pruner, options in (("none", ""), ("median", MEDIAN)):
        wall, rows = engine_tune(make_spec(pruner, options), root / f"pruning-{name}-{pruner}")
        metric = list(rows[0])[2]
        finished = [r for r in rows if r["state"] == "COMPLETE"]
        best = min(float(r[metric]) for r in finished)
        steps = sum(int(r["steps"]) for r in rows)
        pruned = sum(r["state"] == "PRUNED" for r in rows)
        out.append(f"| {name} | {pruner} | {len(rows)} | {pruned} | {steps} | {wall:.1f} | {best:.6g} |")
    return out


# --------------------------------------------------------------------------- 3. overhead


def hand_written_testing(trials: int, steps: int, storage: str) -> list[float]:
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

    return _hand_study(objective, trials, storage)


def hand_written_xgboost(trials: int, rounds: int, storage: str) -> list[float]:
    """The same XGBoost search written with Optuna and xgboost alone."""
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

    return _hand_study(objective, trials, storage)


def _hand_study(objective: Callable[[optuna.Trial], float], trials: int, storage: str) -> list[float]:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=trials)
    return [t.duration.total_seconds() for t in study.trials if t.duration is not None]


ALTERNATIONS = 3


def alternate(engine_search: Callable[[int], list[dict[str, str]]],
              hand_search: Callable[[int], list[float]]) -> tuple[list[float], list[float]]:
    """Per-trial seconds of both searches, run in turn ``ALTERNATIONS`` times (E H E H ...) so a
    change in the machine's load hits both; the first trial of each engine search (the worker
    importing its libraries) is left out, as the hand-written search imports them up front."""
    engine_times: list[float] = []
    hand_times: list[float] = []
    for index in range(ALTERNATIONS):
        engine_times += trial_seconds(engine_search(index))[1:]
        hand_times += hand_search(index)[1:]
    return engine_times, hand_times


def overhead_row(name: str, engine_times: list[float], hand: list[float]) -> str:
    e, h = statistics.median(engine_times), statistics.median(hand)
    return (f"| {name} | {len(hand)} | {h * 1000:.0f} | {e * 1000:.0f} | {(e - h) * 1000:+.0f} "
            f"| {(e / h - 1) * 100:+.1f}% |")


def _has(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", default=str(REPO / "benchmarks" / "results" / "tuning.md"))
    parser.add_argument("--trials", type=int, default=20, help="trials per search (default 20)")
    args = parser.parse_args()
    trials = args.trials
    xgb_ok = _has("engine_xgboost", "engine_tabular", "xgboost", "sklearn")
    root = Path(tempfile.mkdtemp(prefix="engine-tuning-bench-"))
    started = time.time()

    sections = ["## Throughput (testing backend, 300 steps per trial, TPE, no pruner)", "",
                *throughput(root, trials), ""]

    rows = ["| search | pruner | trials | pruned | steps run | wall (s) | best value |",
            "|---|---|---|---|---|---|---|"]
    rows += pruning(root, "testing", lambda p, o: TESTING_SPEC.format(
        steps=300, trials=trials, sampler="random", pruner=p, pruner_options=o, on_exit="true"))
    if xgb_ok:
        example = (REPO / "examples" / "breast_cancer_xgboost.toml").read_text().replace(
            'name = "breast-cancer-xgboost"', 'name = "bench"').replace('patience = 5', 'patience = 100')
        rows += pruning(root, "breast cancer (xgboost)", lambda p, o: example + XGBOOST_TUNE.format(
            trials=trials, pruner=p, pruner_options=o))
    sections += ["## Compute saved by pruning (random sampler, seed 3: same values drawn either way)", "", *rows, ""]

    table = ["| model | trials | hand-written ms / trial | engine ms / trial | difference | overhead |",
             "|---|---|---|---|---|---|"]
    steps = 300
    spec = TESTING_SPEC.format(steps=steps, trials=trials, sampler="random", pruner="none", pruner_options="",
                               on_exit="false")
    table.append(overhead_row(f"testing backend, {steps} steps", *alternate(
        lambda i: engine_tune(spec, root / f"overhead-testing-{i}", "--storage",
                              f"sqlite:///{root}/o-testing-e{i}.db")[1],
        lambda i: hand_written_testing(trials, steps, f"sqlite:///{root}/o-testing-h{i}.db"))))
    if xgb_ok:
        example = (REPO / "examples" / "breast_cancer_xgboost.toml").read_text().replace(
            'name = "breast-cancer-xgboost"', 'name = "bench"').replace("[early_stop]", "[unused_early_stop]")
        example = example.split("[unused_early_stop]")[0] + "\n"
        example = example.replace('checkpoint_every = "100 steps"', 'checkpoint_every = "never"')
        example = example.replace("[checkpoint]", "[checkpoint]\non_exit = false")
        example = example.replace("max_depth = 3,", "max_depth = 3, nthread = 1,")
        xgb_spec = example + XGBOOST_TUNE.format(trials=trials, pruner="none", pruner_options="")
        table.append(overhead_row("XGBoost, breast cancer, 300 rounds", *alternate(
            lambda i: engine_tune(xgb_spec, root / f"overhead-xgb-{i}", "--storage",
                                  f"sqlite:///{root}/o-xgb-e{i}.db")[1],
            lambda i: hand_written_xgboost(trials, 300, f"sqlite:///{root}/o-xgb-h{i}.db"))))
    sections += ["## Per-trial time: engine vs a hand-written Optuna loop (median of trial durations)", "",
                 *table, ""]

    machine = _machine()
    header = [
        "# Tuning benchmarks (engine-optuna)", "",
        f"Produced by `python benchmarks/tuning.py` in {time.time() - started:.0f} s on {machine}; "
        f"Python {platform.python_version()}, Optuna {optuna.__version__}, {trials} trials per search; "
        f"SQLite storage unless stated (the default), a journal file for 2 workers.", "",
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
