"""SIGKILL at random steps and in the middle of saves, then resume: every run ends with the
same bits as one that never stopped — checkpoints on local disk and on S3, saved
synchronously or in the background."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from faults_helpers import Checkpoints, final_state, kill, start, wait_until

from engine.testing import run_spec

SPEC = """
[run]
name = "r"
seed = 11

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
step_seconds = 0.02

[checkpoint]
keep_last = 3
{storage}
"""
#: Seed of the kill times; printed by pytest in the test id so a failure can be replayed.
SEEDS = [1, 2]


def storage_lines(where: str, s3, bucket: str) -> str:
    if where == "local":
        return ""
    return (f'storage = "s3://{bucket}/runs/r"\n[checkpoint.storage_options]\nbackoff = 0.1\n'
            f'[checkpoint.storage_options.filesystem]\nendpoint_url = "{s3.endpoint}"\n')


#: moment -> (checkpoint every N steps, max_steps); saving at every step, most time is spent saving.
#: Long enough that no attempt ends before its kill on a loaded machine.
CADENCE = {"random-step": (3, 40), "during-save": (1, 40)}


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, tuple]:
    """The uninterrupted run's final state, per cadence (checkpoints collect training metrics)."""
    out = {}
    for moment, (every, max_steps) in CADENCE.items():
        directory = tmp_path_factory.mktemp(f"reference-{moment}")
        result = run_spec(SPEC.format(every=every, max_steps=max_steps, storage=""), directory / "run",
                          overrides=["backend.step_seconds=0.0"])
        assert result.status == "completed"
        out[moment] = final_state(directory / "run")
    return out


CASES = [(where, mode, moment, seed) for where in ("local", "s3") for mode in ("sync", "async")
         for moment in CADENCE for seed in (SEEDS if where == "local" else SEEDS[:1])]


@pytest.mark.parametrize(("where", "mode", "moment", "seed"), CASES)
def test_killed_twice_then_resumed_ends_bit_identical(request, tmp_path: Path, references, where, mode,
                                                      moment, seed):
    s3 = request.getfixturevalue("s3") if where == "s3" else None
    bucket = request.getfixturevalue("bucket") if where == "s3" else ""
    every, max_steps = CADENCE[moment]
    (tmp_path / "spec.toml").write_text(SPEC.format(every=every, max_steps=max_steps,
                                                    storage=storage_lines(where, s3, bucket)))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    asynchronous = f"checkpoint.asynchronous={'true' if mode == 'async' else 'false'}"
    chance = random.Random(f"{seed}-{where}-{mode}-{moment}")
    caught_mid_save = 0
    for attempt in range(2):
        args = ["run", "spec.toml", "--quiet", "--set", asynchronous]
        process = start(tmp_path, *args, *(["--resume"] if attempt else []))
        # at least one committed checkpoint first, so there is something to resume from
        seen = len(checkpoints.committed())
        assert wait_until(lambda s=seen: len(checkpoints.committed()) > s, process), process.communicate()
        if moment == "during-save":
            caught_mid_save += wait_until(checkpoints.saving, process)
        else:
            steps = chance.randint(1, 6)
            time.sleep(steps * 0.02)  # a few more steps
        kill(process)
    assert not (tmp_path / "runs/r/summary.json").exists()

    finished = start(tmp_path, "run", "spec.toml", "--resume", "--quiet", "--set", asynchronous,
                     "--set", "backend.step_seconds=0.0")
    _, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    assert final_state(tmp_path / "runs/r") == references[moment]
    if moment == "during-save":
        assert caught_mid_save >= 1, "no kill landed in the middle of a save"
