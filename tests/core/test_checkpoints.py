"""Checkpoints and resume: commit by manifest, verification, retention, exact resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.testing import run_spec

SPEC = """
[run]
name = "r"
seed = 3

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
keep_last = 50
"""


def write_spec(tmp_path: Path, max_steps: int = 60, every: int = 7, sleep: float = 0.0) -> str:
    (tmp_path / "spec.toml").write_text(SPEC.format(max_steps=max_steps, every=every, sleep=sleep))
    return "spec.toml"


def checkpoints(run_dir: Path) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir() if not p.name.startswith("."))


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})


def wait_for_checkpoint(run_dir: Path, count: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        folder = run_dir / "checkpoints"
        if folder.exists() and len([p for p in folder.iterdir() if not p.name.startswith(".")]) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("no checkpoint appeared")


def final_state(run_dir: Path) -> tuple[object, object, list[dict]]:
    weights = json.loads((run_dir / "model/final.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for record in metrics:
        record.pop("time")
    return weights, summary["metrics"], metrics


@pytest.mark.parametrize(("kill_after", "asynchronous"), [(1, False), (3, False), (2, True)])
def test_sigkill_then_resume_ends_bit_identical(cli, tmp_path, kill_after, asynchronous):
    reference = tmp_path / "reference"
    reference.mkdir()
    write_spec(reference)
    assert cli("run", str(reference / "spec.toml"), "--run-dir", str(reference / "run"), "--quiet").code == 0

    spec = write_spec(tmp_path, sleep=0.02)
    mode = f"checkpoint.asynchronous={'true' if asynchronous else 'false'}"
    process = start(tmp_path, "run", spec, "--quiet", "--set", mode)
    wait_for_checkpoint(tmp_path / "runs/r", kill_after, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    summary = tmp_path / "runs/r/summary.json"
    assert not summary.exists()
    (tmp_path / spec).write_text(SPEC.format(max_steps=60, every=7, sleep=0.0))
    resumed = cli("run", spec, "--resume", "--quiet", "--set", mode)
    assert resumed.code == 0, resumed
    assert final_state(tmp_path / "runs/r") == final_state(reference / "run")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_at_a_step_boundary_with_a_checkpoint(cli, tmp_path, signum, code):
    spec = write_spec(tmp_path, max_steps=100000, every=100000, sleep=0.01)
    process = start(tmp_path, "run", spec, "--plain")
    deadline = time.monotonic() + 30
    while not (tmp_path / "runs/r/metrics.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert checkpoints(tmp_path / "runs/r") == [f"step-{summary['steps']:09d}"]
    resumed = cli("run", spec, "--resume", "--quiet", "--set", f"loop.max_steps={summary['steps'] + 3}",
                  "--set", "backend.step_seconds=0.0")
    assert resumed.code == 0, resumed
    assert json.loads((tmp_path / "runs/r/summary.json").read_text())["steps"] == summary["steps"] + 3


def test_checkpoint_holds_no_pickle_and_a_manifest_with_checksums(tmp_path):
    run_spec(SPEC.format(max_steps=14, every=7, sleep=0), tmp_path / "r")
    folder = tmp_path / "r/checkpoints/step-000000014"
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    files = {p.name for p in folder.iterdir()} - {"MANIFEST.json"}
    assert files == set(manifest["files"])
    assert all(name.endswith((".json", ".bin")) for name in files)
    assert manifest["step"] == 14 and "val/loss" in manifest["metrics"]
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())


def test_damaged_or_uncommitted_checkpoints_are_skipped_with_a_warning(cli, tmp_path):
    spec = write_spec(tmp_path, max_steps=21)
    assert cli("run", spec, "--quiet").code == 0
    run_dir = tmp_path / "runs/r"
    assert checkpoints(run_dir) == ["step-000000007", "step-000000014", "step-000000021"]
    (run_dir / "checkpoints/step-000000021/MANIFEST.json").unlink()  # a save that never committed
    backend_file = run_dir / "checkpoints/step-000000014/backend.json"
    backend_file.write_text(backend_file.read_text().replace("0", "1", 1))  # altered bytes
    result = cli("run", spec, "--resume", "--plain", "--set", "loop.max_steps=30")
    assert result.code == 0, result
    assert "step-000000021 has no manifest" in result.err
    assert "step-000000014 is damaged" in result.err and "checksum" in result.err
    assert "resumed from" in result.err and "step-000000007" in result.err


def test_resume_with_only_damaged_checkpoints_fails_cleanly(cli, tmp_path):
    spec = write_spec(tmp_path, max_steps=7)
    assert cli("run", spec, "--quiet").code == 0
    state = tmp_path / "runs/r/checkpoints/step-000000007/loop.json"
    state.write_bytes(state.read_bytes()[:-3])  # truncated
    result = cli("run", spec, "--resume", "--quiet", "--set", "loop.max_steps=9")
    assert result.code == 2, result  # like --resume with no checkpoint: the user decides what to do
    assert "no usable checkpoint" in result.err
    assert "Traceback" not in result.err


def test_retention_keeps_last_and_top_k_and_never_the_resumed_one(tmp_path):
    text = SPEC.format(max_steps=35, every=5, sleep=0).replace("keep_last = 50", """keep_last = 2
save_top_k = 1
monitor = "val/loss"
mode = "max"
""")
    run_spec(text, tmp_path / "r")
    kept = checkpoints(tmp_path / "r")
    assert kept[-2:] == ["step-000000030", "step-000000035"]
    assert len(kept) == 3  # plus the one with the highest val/loss (mode = max): the first
    assert kept[0] == "step-000000005"
    resumed = run_spec(text, tmp_path / "r", resume=True, overrides=["loop.max_steps=60"])
    assert resumed.status == "completed"
    assert "step-000000035" in checkpoints(tmp_path / "r")


def test_asynchronous_saves_commit_the_same_checkpoints(tmp_path):
    text = SPEC.format(max_steps=30, every=5, sleep=0)
    sync = run_spec(text, tmp_path / "sync")
    background = run_spec(text, tmp_path / "async", overrides=["checkpoint.asynchronous=true"])
    assert sync.summary["metrics"] == background.summary["metrics"]
    assert checkpoints(tmp_path / "sync") == checkpoints(tmp_path / "async")
    for name in checkpoints(tmp_path / "sync"):
        for file in (tmp_path / "sync/checkpoints" / name).iterdir():
            if file.name not in ("MANIFEST.json", "loop.json"):  # loop.json holds wall time
                assert file.read_bytes() == (tmp_path / "async/checkpoints" / name / file.name).read_bytes()


@pytest.mark.parametrize("asynchronous", ["false", "true"])
def test_a_failing_save_warns_and_training_goes_on(cli, tmp_path, asynchronous):
    (tmp_path / "blocker").write_text("a file where the checkpoint folder should be")
    spec = write_spec(tmp_path, max_steps=14)
    result = cli("run", spec, "--plain", "--set", 'checkpoint.storage="blocker/sub"',
                 "--set", f"checkpoint.asynchronous={asynchronous}")
    assert result.err.count("could not write the checkpoint of step") == 2  # steps 7 and 14 (the end)
    assert "training goes on" in result.err
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["steps"] == 14
    # ...but a run that saved nothing at all did not succeed
    assert result.code == 1 and summary["status"] == "failed", result
    assert len(result.error_lines) == 1 and "no checkpoint was written" in result.err


def test_a_failing_save_can_be_fatal(cli, tmp_path):
    (tmp_path / "blocker").write_text("not a folder")
    spec = write_spec(tmp_path, max_steps=14)
    result = cli("run", spec, "--quiet", "--set", 'checkpoint.storage="blocker/sub"',
                 "--set", 'checkpoint.on_error="fail"')
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "could not write the checkpoint of step 7" in result.err
    assert "Traceback" not in result.err


def test_folders_abandoned_by_a_killed_save_are_removed(tmp_path):
    text = SPEC.format(max_steps=14, every=7, sleep=0)
    run_spec(text, tmp_path / "r")
    folder = tmp_path / "r/checkpoints"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = folder / f".step-000000010.partial-{dead.pid}"
    abandoned.mkdir()
    (abandoned / "backend.json").write_text("{}")
    run_spec(text, tmp_path / "r", resume=True, overrides=["loop.max_steps=21"])
    assert not abandoned.exists()
    assert checkpoints(tmp_path / "r") == ["step-000000007", "step-000000014", "step-000000021"]
