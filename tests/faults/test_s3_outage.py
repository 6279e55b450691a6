"""The S3 server frozen or stopped in the middle of saves, and damaged files in a checkpoint:
committed checkpoints stay intact, the run goes on (warn) or fails cleanly (fail), and
resume is exact."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from engine_fsspec.options import FsspecStorageOptions
from engine_fsspec.storage import FsspecStorage
from faults_helpers import Checkpoints, StderrReader, final_state, kill, start, wait_until

from engine._core.checkpoint.manager import CheckpointManager
from engine.testing import run_spec

SPEC = """
[run]
name = "r"
seed = 5

[loop]
max_steps = {max_steps}
eval_every = "5 steps"
checkpoint_every = "{every} steps"
log_every = "2 steps"

[backend]
use = "testing"
train_size = 64
batch_size = 8
noise = 0.3
step_seconds = {sleep}

[checkpoint]
storage = "s3://{bucket}/runs/r"
keep_last = 50
on_error = "{on_error}"

[checkpoint.storage_options]
attempts = {attempts}
backoff = 0.1

[checkpoint.storage_options.filesystem]
endpoint_url = "{endpoint}"
config_kwargs = {{ connect_timeout = 1, read_timeout = 1, retries = {{ max_attempts = 1 }} }}
"""


def spec(s3, bucket: str, *, max_steps: int = 30, every: int = 2, sleep: float = 0.03,
         on_error: str = "warn", attempts: int = 2) -> str:
    return SPEC.format(max_steps=max_steps, every=every, sleep=sleep, bucket=bucket, endpoint=s3.endpoint,
                       on_error=on_error, attempts=attempts)


def reference(tmp_path: Path, s3, bucket: str, **kwargs) -> tuple:
    text = spec(s3, bucket, **kwargs).replace("runs/r", "reference")
    assert run_spec(text, tmp_path / "reference", overrides=["backend.step_seconds=0.0"]).status == "completed"
    return final_state(tmp_path / "reference")


def verify_all(s3, bucket: str) -> list[int]:
    """Load every committed checkpoint, checking each file against its checksum."""
    storage = FsspecStorage(FsspecStorageOptions(url=f"s3://{bucket}/runs/r", filesystem={"endpoint_url": s3.endpoint}))
    manager = CheckpointManager(storage)
    steps = []
    for info in manager.committed():
        for file in info.files:
            from engine._core.checkpoint.manifest import verify

            verify(info, file, storage.read(info.name, file))
        steps.append(info.step)
    return steps


def test_server_frozen_during_a_save_then_back_the_run_goes_on_and_ends_exact(tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec(s3, bucket))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    process = start(tmp_path, "run", "spec.toml", "--plain")
    assert wait_until(lambda: len(checkpoints.committed()) >= 2, process)
    assert wait_until(checkpoints.saving, process)
    s3.pause()  # SIGSTOP: requests hang until their timeouts, then are retried
    time.sleep(2.5)
    s3.resume()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert verify_all(s3, bucket)[-1] == 30
    assert final_state(tmp_path / "runs/r") == reference(tmp_path, s3, bucket)


def test_server_stopped_and_restarted_saves_fail_with_warnings_and_training_goes_on(tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec(s3, bucket, max_steps=40))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    process = start(tmp_path, "run", "spec.toml", "--plain")
    stderr = StderrReader(process)
    assert wait_until(lambda: len(checkpoints.committed()) >= 2, process)
    assert wait_until(checkpoints.saving, process)
    s3.stop()  # connections refused; a restarted moto has lost its buckets, like a new endpoint
    try:  # down until an operation gave up: longer than the retries of s3fs and of the storage
        assert wait_until(lambda: "could not" in stderr.text(), process, timeout=90)
    finally:
        s3.start()
        s3.create_bucket(bucket)
    err = stderr.finish(timeout=120)
    assert process.returncode == 0, err
    # the outage hits the save in flight, or (on a slow machine) only the retention after it
    assert ("could not write the checkpoint of step" in err and "training goes on" in err) \
        or ("could not delete old checkpoints" in err and "the next checkpoint tries again" in err), err
    assert "Traceback" not in err
    steps = verify_all(s3, bucket)
    assert steps and steps[-1] == 40  # the saves after the restart committed, up to the last one
    assert final_state(tmp_path / "runs/r") == reference(tmp_path, s3, bucket, max_steps=40)
    resumed = start(tmp_path, "run", "spec.toml", "--resume", "--quiet", "--set", "loop.max_steps=44")
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err


def test_server_stopped_with_the_fail_policy_the_run_fails_cleanly(tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec(s3, bucket, on_error="fail"))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    process = start(tmp_path, "run", "spec.toml", "--plain")
    assert wait_until(lambda: len(checkpoints.committed()) >= 2, process)
    s3.stop()
    try:
        _, err = process.communicate(timeout=120)
    finally:
        s3.start()
    assert process.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("engine: error:")]
    assert len(errors) == 1, err
    # the save, or the retention after a save, is what finds the server gone
    assert f"s3://{bucket}/runs/r" in errors[0] and "gave up after 2 tries" in errors[0], err
    assert "Traceback" not in err
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_a_damaged_file_on_s3_is_caught_by_its_checksum_and_the_previous_checkpoint_is_used(
        tmp_path, s3, bucket, damage):
    (tmp_path / "spec.toml").write_text(spec(s3, bucket, max_steps=21, every=7, sleep=0.0))
    first = start(tmp_path, "run", "spec.toml", "--quiet")
    assert first.wait(timeout=60) == 0
    client = s3.client()
    key = "runs/r/step-000000021/backend.json"
    data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    client.put_object(Bucket=bucket, Key=key, Body=data[:-5] if damage == "truncated" else data.replace(b"0", b"1", 1))
    resumed = start(tmp_path, "run", "spec.toml", "--resume", "--plain", "--set", "loop.max_steps=28")
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    assert f"s3://{bucket}/runs/r/step-000000021 is damaged" in err
    assert ("checksum" if damage == "altered" else "bytes") in err
    assert "step-000000014" in err  # resumed from the previous one
    straight = run_spec(spec(s3, bucket, max_steps=28, every=7, sleep=0.0).replace("runs/r", "straight"),
                        tmp_path / "straight")
    assert straight.status == "completed"
    assert (tmp_path / "runs/r/model/final.json").read_bytes() == (tmp_path / "straight/model/final.json").read_bytes()


def test_a_kill_while_the_server_is_frozen_leaves_only_intact_checkpoints(tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec(s3, bucket))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    process = start(tmp_path, "run", "spec.toml", "--quiet")
    assert wait_until(lambda: len(checkpoints.committed()) >= 2, process)
    assert wait_until(checkpoints.saving, process)
    s3.pause()
    kill(process)
    s3.resume()
    assert verify_all(s3, bucket)
    resumed = start(tmp_path, "run", "spec.toml", "--resume", "--quiet", "--set", "backend.step_seconds=0.0")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert final_state(tmp_path / "runs/r") == reference(tmp_path, s3, bucket)
