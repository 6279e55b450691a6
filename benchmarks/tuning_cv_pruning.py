"""Pruning a cross-validated study (not a timed test): ``engine tune`` on a 3-fold spec whose
space is half bad values (``lr = 0.0005`` barely trains), with and without the median pruner.

A seeded random sampler draws the same values either way, so the two searches differ only in
what pruning stops. Reports the trials pruned (and in which fold), the steps run, the wall
time and the best value; the saving in wall time should follow the saving in steps.

    python benchmarks/tuning_cv_pruning.py [--trials 16] [--steps 300] [--step-seconds 0.001]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDS = 3

SPEC = """
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
[cv]
folds = {folds}
[tune]
n_trials = {trials}
metric = "val/loss"
direction = "minimize"
sampler = "random"
sampler_options = {{ seed = 3 }}
pruner = "{pruner}"
{pruner_options}
[tune.space]
"backend.lr" = {{ categorical = [0.1, 0.0005] }}
"backend.noise" = {{ float = [0.0, 0.5] }}
"""
BAD_LR = 0.0005
MEDIAN = "pruner_options = { n_startup_trials = 3, n_warmup_steps = 20 }"


def tune(spec: str, workdir: Path) -> tuple[float, list[dict[str, str]]]:
    """``engine tune`` in a fresh directory: wall seconds and the rows of trials.csv."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    (workdir / "spec.toml").write_text(spec)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)])}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine", "tune", "spec.toml"], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"engine tune failed:\n{done.stderr}")
    with (workdir / "runs" / "bench" / "trials.csv").open() as handle:
        return wall, list(csv.DictReader(handle))


def folds_run(workdir: Path, number: str) -> int:
    summary = json.loads((workdir / "runs" / "bench" / "trials" / number / "summary.json").read_text())
    return int(summary["folds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300, help="steps per fold")
    parser.add_argument("--step-seconds", type=float, nargs="*", default=[0.0, 0.001],
                        help="the testing backend's sleep per step (0: the pure-Python model)")
    args = parser.parse_args()
    lines = ["| step cost | pruner | trials (bad) | pruned (bad) | pruned in fold 0/1/2 | folds run | steps run "
             "| wall (s) | best val/loss |", "|---|---|---|---|---|---|---|---|---|"]
    savings = []
    with tempfile.TemporaryDirectory() as root:
        for step_seconds in args.step_seconds:
            measured = {}
            for pruner, options in (("none", ""), ("median", MEDIAN)):
                spec = SPEC.format(steps=args.steps, step_seconds=step_seconds, folds=FOLDS, trials=args.trials,
                                   pruner=pruner, pruner_options=options)
                workdir = Path(root) / f"{pruner}-{step_seconds}"
                wall, rows = tune(spec, workdir)
                pruned = [r for r in rows if r["state"] == "PRUNED"]
                in_fold = [0] * FOLDS
                for row in pruned:
                    in_fold[folds_run(workdir, row["number"]) - 1] += 1
                folds = sum(folds_run(workdir, r["number"]) for r in rows)
                steps = sum(int(r["steps"]) for r in rows)
                bad = sum(float(r["backend.lr"]) == BAD_LR for r in rows)
                pruned_bad = sum(float(r["backend.lr"]) == BAD_LR for r in pruned)
                best = min(float(r["val/loss"]) for r in rows if r["state"] == "COMPLETE")
                measured[pruner] = (steps, wall)
                cost = f"{step_seconds * 1000:g} ms" if step_seconds else "pure Python"
                lines.append(f"| {cost} | {pruner} | {len(rows)} ({bad}) | {len(pruned)} ({pruned_bad}) "
                             f"| {'/'.join(map(str, in_fold))} | {folds} | {steps} | {wall:.1f} | {best:.6g} |")
            (steps_none, wall_none), (steps_median, wall_median) = measured["none"], measured["median"]
            savings.append(f"- step cost {step_seconds * 1000:g} ms: pruning ran {1 - steps_median / steps_none:.0%} "
                           f"fewer steps and took {1 - wall_median / wall_none:.0%} less wall time")
    print(f"{FOLDS}-fold study, {args.trials} trials, {args.steps} steps per fold, half the space bad\n")
    print("\n".join([*lines, "", *savings]))


if __name__ == "__main__":
    main()
