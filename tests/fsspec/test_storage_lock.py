"""The lock on an fsspec checkpoint storage (``<url>/.lock.json``, best effort): a second run
training into the same bucket prefix exits 2 naming the first; a lock whose heartbeat stopped,
or whose holder on this host is gone, is taken over with a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from fsspec_helpers import spec_text, summary

LOCK_KEY = "runs/r/.lock.json"


def write(tmp_path, s3, bucket, *, sleep: float = 0.0, max_steps: int = 14) -> None:
    text = spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint, max_steps=max_steps, sleep=sleep)
    (tmp_path / "spec.toml").write_text(text.replace("backoff = 0.1", "backoff = 0.1\nlock_heartbeat = 0.3"))


def test_a_second_run_into_the_same_storage_exits_2_naming_the_first(cli, tmp_path, s3, bucket):
    write(tmp_path, s3, bucket, sleep=0.05, max_steps=60)
    first = subprocess.Popen([sys.executable, "-m", "engine", "run", "spec.toml", "--quiet", "--run-dir", "a"],
                             cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = s3.client()
    deadline = time.monotonic() + 60
    while LOCK_KEY not in s3.objects(bucket, "runs/r/") and first.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    holder = json.loads(client.get_object(Bucket=bucket, Key=LOCK_KEY)["Body"].read())
    assert holder["pid"] == first.pid and holder["period"] == 0.3

    second = cli("run", "spec.toml", "--quiet", "--run-dir", "b")  # another run directory, the same storage
    assert second.code == 2, second
    assert len(second.error_lines) == 1 and f"in use by process {first.pid}" in second.error_lines[0], second
    assert not (tmp_path / "b").exists()
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert summary(tmp_path / "a")["steps"] == 60
    assert LOCK_KEY not in s3.objects(bucket, "runs/r/")  # released at the end


def test_a_lock_without_heartbeat_from_another_host_is_taken_over(cli, tmp_path, s3, bucket):
    write(tmp_path, s3, bucket)
    left = {"pid": 4242, "host": "node-17", "owner": "someone", "token": "x", "heartbeat": 1.0, "period": 0.2}
    s3.client().put_object(Bucket=bucket, Key=LOCK_KEY, Body=json.dumps(left).encode())
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 0, result
    taken = [line for line in result.err.splitlines() if "took over the lock of checkpoint storage" in line]
    assert len(taken) == 1 and "process 4242 on node-17" in taken[0] and "no heartbeat" in taken[0], result


def test_a_lock_left_by_a_killed_process_on_this_host_is_taken_over_at_once(cli, tmp_path, s3, bucket):
    write(tmp_path, s3, bucket, sleep=0.05, max_steps=40)
    first = subprocess.Popen([sys.executable, "-m", "engine", "run", "spec.toml", "--quiet"], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(tmp_path)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(key.endswith("MANIFEST.json") for key in s3.objects(bucket, "runs/r/")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    first.kill()
    first.wait()
    started = time.monotonic()
    resumed = cli("run", "spec.toml", "--resume", "--quiet", "--set", "backend.step_seconds=0.0")
    assert resumed.code == 0, resumed
    assert f"checkpoint storage s3://{bucket}/runs/r left by process {first.pid}" in resumed.err, resumed
    assert "watching its heartbeat" not in resumed.err and time.monotonic() - started < 30
    assert summary(tmp_path / "runs/r")["steps"] == 40
