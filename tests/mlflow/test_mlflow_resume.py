"""After SIGKILL and --resume, the same MLflow run continues: each step once, none missing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mlflow.tracking import MlflowClient
from mltools import history, logged, only_run

SPEC = """
[run]
name = "resumed"

[loop]
max_steps = 60
log_every = "2 steps"
eval_every = "10 steps"
checkpoint_every = "20 steps"

[backend]
use = "testing"
step_seconds = 0.03

[[tracker]]
use = "mlflow"
tracking_uri = "{uri}"
experiment = "exp-resume"
flush_secs = 0.01
"""


def _engine(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.Popen([sys.executable, "-m", "engine", "run", "spec.toml", "--run-dir", "run", *args, "-q"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"the run ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_resume_after_sigkill_continues_the_same_run(mlflow_server, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(uri=mlflow_server))
    client = MlflowClient(mlflow_server)
    run_dir = tmp_path / "run"

    process = _engine(tmp_path)
    _wait_for((run_dir / "checkpoints" / "step-000000020" / "MANIFEST.json").exists, process,
              "the checkpoint at step 20")

    def sent_past_checkpoint() -> bool:
        experiment = client.get_experiment_by_name("exp-resume")
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        return bool(runs) and any(step > 24 for step, _ in history(client, runs[0].info.run_id, "train/loss"))

    _wait_for(sent_past_checkpoint, process, "points past the checkpoint")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not (run_dir / "checkpoints" / "step-000000040").exists()
    before = only_run(client, "exp-resume")
    assert before.info.status == "RUNNING"

    resumed = _engine(tmp_path, "--resume")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert "warning" not in err, err

    after = only_run(client, "exp-resume")
    assert after.info.run_id == before.info.run_id
    assert after.info.status == "FINISHED"
    assert after.data.tags["engine.resumed_from_step"] == "20"
    for key in ("train/loss", "lr", "val/loss", "val/mae"):
        assert history(client, after.info.run_id, key) == logged(run_dir, key), key  # each step once
    assert [step for step, _ in history(client, after.info.run_id, "train/loss")] == list(range(2, 61, 2))
