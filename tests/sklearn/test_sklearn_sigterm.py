"""SIGTERM, the way SLURM and Kubernetes preempt a job, at ten seeded random steps with early
stopping on, each attempt restarted with ``--resume``: the run ends as if it had never stopped.

The models predict the same probabilities, bit for bit (a skops file's bytes also hold object
ids, so the files themselves differ); the summary and the metrics log are the same, and after
each attempt the log is the uninterrupted run's up to that step.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import skops.io as sio

from engine._core.errors import EXIT_SIGTERM
from engine.testing.restarts import write_kill_plugin

SPEC = """
[run]
name = "r"
seed = 3
plugins = ["killer"]

[loop]
max_steps = 60
eval_every = "2 steps"
checkpoint_every = "3 steps"

[backend]
use = "sklearn"
estimator = "sklearn.ensemble:GradientBoostingClassifier"
params = {{ max_depth = 2, learning_rate = 0.1, subsample = 0.7 }}
estimators_per_step = 2
data = {{ train = "{train}", valid = "{valid}" }}

[early_stop]
monitor = "val/log_loss"
patience = 2
"""
#: The uninterrupted run stops early at this step (asserted), so every preemption comes before.
STOPS_AT = 24


def ended(run_dir: Path, valid: Path) -> dict[str, Any]:
    """The summary (without wall time and paths), the metrics log (without wall times) and what
    the final and best models predict on ``valid``."""
    summary = json.loads((run_dir / "summary.json").read_text())
    features = pd.read_csv(valid).drop(columns=["label"])
    predicted = {}
    for tag in ("final", "best"):
        path = run_dir / f"model/{tag}.skops"
        predicted[tag] = sio.load(path, trusted=sio.get_untrusted_types(file=path)).predict_proba(features).tolist()
    return {"summary": {key: summary[key] for key in ("status", "reason", "steps", "best", "metrics")},
            "metrics": log(run_dir), "predicted": predicted}


def log(run_dir: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("time")
    return records


def test_preempted_by_sigterm_ten_times_then_resumed_ends_identical(csvs, tmp_path, cli):
    write_kill_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.format(train=csvs[0], valid=csvs[1]))
    reference = cli("run", "spec.toml", "--quiet", "--run-dir", "reference")
    assert reference.code == 0, reference
    expected = ended(tmp_path / "reference", csvs[1])
    assert (expected["summary"]["status"], expected["summary"]["steps"]) == ("stopped", STOPS_AT)

    steps = sorted(random.Random("sigterm-sklearn").sample(range(1, STOPS_AT), 10))
    job = tmp_path / "runs/r"
    for number, step in enumerate(steps, 1):
        attempt = cli("run", "spec.toml", "--quiet", *(["--resume"] if number > 1 else []),
                      env={"KILL_AT": str(step), "KILL_SIGNAL": "SIGTERM"})
        where = f"attempt {number} of the job preempted at steps {steps}"
        assert attempt.code == EXIT_SIGTERM, f"{where}: {attempt}"
        summary = json.loads((job / "summary.json").read_text())
        assert (summary["status"], summary["steps"]) == ("interrupted", step), where
        assert log(job) == [r for r in expected["metrics"] if r["step"] <= step], where
    finished = cli("run", "spec.toml", "--quiet", "--resume")
    assert finished.code == 0, finished
    assert ended(job, csvs[1]) == expected
