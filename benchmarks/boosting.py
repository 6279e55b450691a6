"""Engine vs ``xgb.train`` / ``lgb.train`` / ``CatBoost.fit``: wall time for 500 rounds on breast cancer.

Side by side in one process, alternating, repeated; medians and ratios. The engine column is
the whole ``engine run`` in-process (run directory, final checkpoint, export included).
Times are CPU seconds of this process (``time.process_time``): with one thread per library that
is the work done, and a loaded shared machine distorts it far less than wall time.
Evaluation schedules match: none,
every round, and (engine only, since ``xgb.train``/``lgb.train`` evaluate every round or never)
every 10 rounds. One thread per library, so a shared machine adds less noise.

    python benchmarks/boosting.py [--repeats 7] [--out benchmarks/results/boosting.md]

Needs engine-xgboost, engine-lightgbm and/or engine-catboost installed (each part is skipped when missing).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.datasets import load_breast_cancer

import engine
from engine.testing import run_spec

ROUNDS = 500
_FRAMES: dict[str, pd.DataFrame] = {}


def frames() -> dict[str, pd.DataFrame]:
    """The data function the engine reads (``__main__:frames``): a fixed 80/20 split."""
    if not _FRAMES:
        frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
        _FRAMES["train"], _FRAMES["valid"] = frame.iloc[114:].reset_index(drop=True), frame.iloc[:114]
    return dict(_FRAMES)


def xy(part: str) -> tuple[pd.DataFrame, pd.Series]:
    frame = frames()[part]
    return frame.drop(columns=["label"]), frame["label"]


class RoundClock:
    """Times the rounds themselves: from ``on_run_start`` to the end of the last round's work."""

    def __init__(self) -> None:
        self.start = self.end = 0.0

    @engine.hookimpl(tryfirst=True)
    def on_run_start(self, run: Any) -> None:
        self.start = time.process_time()

    @engine.hookimpl(trylast=True)
    def on_step(self, run: Any) -> None:
        if run.step == ROUNDS:  # reading the CPU clock is a system call: only where it counts
            self.end = time.process_time()

    @engine.hookimpl(trylast=True)
    def on_eval(self, run: Any, metrics: dict[str, float]) -> None:
        if run.step == ROUNDS:
            self.end = time.process_time()


def engine_run(backend: str, params: dict, eval_every: str) -> tuple[float, float]:
    """(whole ``engine run`` in-process, the rounds alone) in CPU seconds."""
    spec = {"run": {"seed": 0}, "loop": {"max_steps": ROUNDS, "eval_every": eval_every, "log_every": "never"},
            "backend": {"use": backend, "params": params, "data": {"train": "__main__:frames"}}}
    clock = RoundClock()
    with tempfile.TemporaryDirectory() as directory:
        start = time.process_time()
        result = run_spec(spec, Path(directory) / "run", overrides=["checkpoint.storage_options.fsync=false"],
                          plugins=[clock])
        total = time.process_time() - start
    assert result.status == "completed", result.summary
    return total, clock.end - clock.start


def xgb_reference(evals: bool) -> tuple[float, float]:
    """(DMatrix construction and ``xgb.train``, ``xgb.train`` alone) in CPU seconds."""
    import xgboost as xgb

    start = time.process_time()
    dtrain, dvalid = xgb.DMatrix(*xy("train")), xgb.DMatrix(*xy("valid"))
    rounds = time.process_time()
    xgb.train(XGB, dtrain, ROUNDS, evals=[(dvalid, "val")] if evals else [], verbose_eval=False)
    end = time.process_time()
    return end - start, end - rounds


def lgb_reference(evals: bool) -> tuple[float, float]:
    """(Dataset construction and ``lgb.train``, ``lgb.train`` alone) in CPU seconds.

    LightGBM builds its bins lazily inside ``train``, so "alone" still includes that.
    """
    import lightgbm as lgb

    start = time.process_time()
    train = lgb.Dataset(*xy("train"))
    valid = [lgb.Dataset(*xy("valid"), reference=train)] if evals else None
    rounds = time.process_time()
    lgb.train(LGB, train, ROUNDS, valid_sets=valid, valid_names=["val"] if evals else None)
    end = time.process_time()
    return end - start, end - rounds


def cb_reference(evals: bool) -> tuple[float, float]:
    """(Pool construction and ``CatBoost.fit``, ``fit`` alone) in CPU seconds.

    CatBoost quantizes the pool inside ``fit``, so "alone" still includes that.
    """
    from catboost import CatBoost, Pool

    start = time.process_time()
    train = Pool(*xy("train"))
    valid = Pool(*xy("valid")) if evals else None
    rounds = time.process_time()
    CatBoost({**CB, "iterations": ROUNDS}).fit(train, eval_set=valid)
    end = time.process_time()
    return end - start, end - rounds


XGB = {"objective": "binary:logistic", "eval_metric": "logloss", "max_depth": 3, "eta": 0.1, "nthread": 1, "seed": 0}
LGB = {"objective": "binary", "metric": "binary_logloss", "num_leaves": 15, "learning_rate": 0.05,
       "num_threads": 1, "seed": 0, "verbosity": -1}
CB = {"loss_function": "Logloss", "depth": 4, "learning_rate": 0.05, "thread_count": 1, "random_seed": 0,
      "logging_level": "Silent", "allow_writing_files": False}


def measure(repeats: int, cases: dict[str, Callable[[], tuple[float, float]]]) -> dict[str, list]:
    times: dict[str, list] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():  # interleaved, so drifting load hits every case alike
            times[name].append(case())
    return times


def medians(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def spread(values: list[tuple[float, float]]) -> float:
    totals = [v[1] for v in values]
    return (max(totals) - min(totals)) / statistics.median(totals)


def table(library: str, reference: Callable[[bool], tuple[float, float]], backend: str, params: dict,
          repeats: int) -> list[str]:
    cases: dict[str, Callable[[], tuple[float, float]]] = {
        "ref-none": lambda: reference(False),
        "engine-none": lambda: engine_run(backend, params, "never"),
        "ref-every": lambda: reference(True),
        "engine-every": lambda: engine_run(backend, params, "1 steps"),
        "engine-10": lambda: engine_run(backend, params, "10 steps"),
    }
    engine_run(backend, params, "1 steps")  # warm up imports and caches
    reference(True)
    times = measure(repeats, cases)
    m = {name: medians(values) for name, values in times.items()}
    rows = [f"### {library}", "",
            f"| evaluation | `{library}.train` rounds (ms) | engine rounds (ms) | ratio | "
            f"`{library}.train` + data (ms) | engine whole run (ms) | ratio | spread of rounds (max−min)/median |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    for label, ref, eng in (("none", "ref-none", "engine-none"), ("every round", "ref-every", "engine-every")):
        (r_all, r_rounds), (e_all, e_rounds) = m[ref], m[eng]
        rows.append(f"| {label} | {r_rounds * 1e3:.0f} | {e_rounds * 1e3:.0f} | {e_rounds / r_rounds:.3f} "
                    f"| {r_all * 1e3:.0f} | {e_all * 1e3:.0f} | {e_all / r_all:.3f} "
                    f"| ref {spread(times[ref]):.0%}, engine {spread(times[eng]):.0%} |")
    e_all, e_rounds = m["engine-10"]
    r_all, r_rounds = m["ref-every"]
    rows.append(f"| engine every 10 rounds vs train() every round | {r_rounds * 1e3:.0f} | {e_rounds * 1e3:.0f} "
                f"| {e_rounds / r_rounds:.3f} | {r_all * 1e3:.0f} | {e_all * 1e3:.0f} | {e_all / r_all:.3f} "
                f"| engine {spread(times['engine-10']):.0%} |")
    return rows


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration, subprocess.CalledProcessError):
        return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default="benchmarks/results/boosting.md")
    args = parser.parse_args()
    import os

    load_before = os.getloadavg()[0]
    sections, versions = [], []
    if importlib.util.find_spec("engine_xgboost"):
        import xgboost

        versions.append(f"xgboost {xgboost.__version__}")
        sections += [*table("xgb", xgb_reference, "xgboost", XGB, args.repeats), ""]
    if importlib.util.find_spec("engine_lightgbm"):
        import lightgbm

        versions.append(f"lightgbm {lightgbm.__version__}")
        sections += [*table("lgb", lgb_reference, "lightgbm", LGB, args.repeats), ""]
    if importlib.util.find_spec("engine_catboost"):
        import catboost

        versions.append(f"catboost {catboost.__version__}")
        engine_cb = {k: v for k, v in CB.items() if k not in ("logging_level", "allow_writing_files")}
        sections += [*table("cb", cb_reference, "catboost", engine_cb, args.repeats), ""]
    load_after = os.getloadavg()[0]
    text = "\n".join([
        "# Boosting: engine vs the libraries' own train()", "",
        f"{ROUNDS} rounds on scikit-learn's breast cancer data (455 train / 114 validation rows), one thread, "
        "CPU time of the process, "
        f"median of {args.repeats} interleaved repeats. Written by `benchmarks/boosting.py`.", "",
        f"- machine: {machine()} ({os.cpu_count()} CPUs, shared with other jobs)",
        f"- Python {platform.python_version()}, {', '.join(versions)}",
        f"- load average (1 min) before/after: {load_before:.1f} / {load_after:.1f}; the spread column shows "
        "how noisy each case was", "",
        *sections,
        "\"Rounds\" is the work the issue compares: the boosting rounds and evaluations themselves — "
        "`train()`'s call on ready data against the engine from `on_run_start` to the end of the last "
        "round (loop, events, cadence, the backend's per-round work). \"Whole run\" adds what each does "
        "around it: data construction for `train()`; for the engine also reading the data, the run "
        "directory, spec and environment records, the final checkpoint and the model export — a fixed "
        "cost per run, independent of the number of rounds. The last row compares the engine "
        "evaluating every 10 rounds with `train()` evaluating every round, the only schedule `train()` "
        "offers with a validation set.", "",
    ])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
