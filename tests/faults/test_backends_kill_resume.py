"""SIGKILL of real backends — torch on CPU, xgboost and lightgbm — at a seeded random step and
in the middle of a save, then resume: every run ends with the same model bytes, summary metrics
and metrics log as one that never stopped, with checkpoints on local disk and on S3.

Each run is ``python -m engine run`` in a subprocess. The first is killed by the run plugin
``faults_kill`` at a seeded random step (with background saves, possibly while one is being
written); the second, resumed, is killed from outside as soon as a checkpoint is seen half
written; the third resumes to the end.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from faults_helpers import KILLED_RUN, Checkpoints, final_state, kill, s3_storage, start, wait_until

SPEC = KILLED_RUN + """
[loop]
max_steps = {max_steps}
eval_every = "10 steps"
checkpoint_every = "{every} steps"
log_every = "5 steps"

[backend]
{backend}

[checkpoint]
keep_last = 2
asynchronous = {asynchronous}
{storage}
"""

TORCH = """use = "torch"
model = "faults_data:tiny"
data = "faults_data:tensors"
batch_size = 16
optimizer = { use = "adamw", lr = 0.01, weight_decay = 0.01 }
metrics = ["accuracy"]
device = "cpu"
threads = 1
"""
XGBOOST = """use = "xgboost"
eval_train = true
data = {{ train = "faults_data:table", val_fraction = 0.25 }}

[backend.params]
objective = "binary:logistic"
eval_metric = ["logloss", "auc"]
max_depth = 3
eta = 0.2
nthread = 1
{extra}"""
LIGHTGBM = """use = "lightgbm"
eval_train = true
data = { train = "faults_data:table", val_fraction = 0.25 }

[backend.params]
objective = "binary"
metric = ["binary_logloss", "auc"]
num_leaves = 7
learning_rate = 0.2
min_data_in_leaf = 5
num_threads = 1
verbosity = -1
"""

#: name -> (plugin module that must be installed, [backend] section, checkpoint every N steps, max_steps)
BACKENDS: dict[str, tuple[str, str, int, int]] = {
    "torch": ("engine_torch", TORCH, 3, 40),  # 5 steps per epoch: most checkpoints are mid-epoch
    "xgboost": ("engine_xgboost", XGBOOST.format(extra=""), 2, 40),
    # XGBoost does not save its sampler's state: engine-xgboost replays the rounds on resume
    "xgboost-sampling": ("engine_xgboost", XGBOOST.format(extra="subsample = 0.7\ncolsample_bytree = 0.8\n"), 2, 40),
    "lightgbm": ("engine_lightgbm", LIGHTGBM, 2, 40),
}
#: (where the checkpoints go, saved in the background or not)
PLACES = [("local", "sync"), ("s3", "async")]


def spec_text(backend: str, *, storage: str = "", asynchronous: bool = False) -> str:
    _, section, every, max_steps = BACKENDS[backend]
    return SPEC.format(max_steps=max_steps, every=every, backend=section, storage=storage,
                       asynchronous=str(asynchronous).lower())


def finish(cwd: Path, *args: str) -> None:
    """Run ``engine`` to its end; it must succeed."""
    process = start(cwd, *args)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err


#: A run's final model bytes, summary metrics and metrics log (see ``faults_helpers.final_state``).
Final = tuple[Any, Any, Any]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Final]:
    """A backend's run that never stopped (local disk, synchronous saves), run once when first asked."""
    cache: dict[str, Final] = {}

    def final(backend: str) -> Final:
        if backend not in cache:
            directory = tmp_path_factory.mktemp(f"uninterrupted-{backend}")
            (directory / "spec.toml").write_text(spec_text(backend))
            finish(directory, "run", "spec.toml", "--quiet")
            cache[backend] = final_state(directory / "runs/r")
        return cache[backend]

    return final


@pytest.mark.parametrize(("where", "mode"), PLACES)
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_killed_at_a_random_step_and_mid_save_then_resumed_ends_bit_identical(
        request: pytest.FixtureRequest, tmp_path: Path, uninterrupted: Callable[[str], Final], backend: str,
        where: str, mode: str) -> None:
    pytest.importorskip(BACKENDS[backend][0])
    expected = uninterrupted(backend)
    s3 = request.getfixturevalue("s3") if where == "s3" else None
    bucket = request.getfixturevalue("bucket") if where == "s3" else ""
    storage = s3_storage(s3, bucket, "runs/r") if s3 is not None else ""
    (tmp_path / "spec.toml").write_text(spec_text(backend, storage=storage, asynchronous=mode == "async"))
    checkpoints = Checkpoints(tmp_path / "runs/r", s3, bucket, "runs/r/")
    _, _, every, max_steps = BACKENDS[backend]
    # after the second save is submitted the first is committed, even with background saves
    kill_at = random.Random(f"{backend}-{where}-{mode}").randint(2 * every + 1, max_steps // 2)

    killed = start(tmp_path, "run", "spec.toml", "--quiet", env={"FAULTS_KILL_AT": str(kill_at)})
    _, err = killed.communicate(timeout=180)
    assert killed.returncode == -signal.SIGKILL, f"not killed at step {kill_at}: {err}"
    assert checkpoints.committed(), f"no checkpoint committed before step {kill_at}"

    last, stale = checkpoints.committed()[-1], checkpoints.in_progress()
    resumed = start(tmp_path, "run", "spec.toml", "--resume", "--quiet")
    assert wait_until(lambda: checkpoints.committed()[-1:] > [last], resumed), resumed.communicate()
    caught_mid_save = wait_until(lambda: checkpoints.saving(ignore=stale), resumed)
    kill(resumed)
    assert caught_mid_save, "the resumed run ended before a kill could land in a save"
    assert not (tmp_path / "runs/r/summary.json").exists()

    finish(tmp_path, "run", "spec.toml", "--resume", "--quiet")
    assert final_state(tmp_path / "runs/r") == expected, f"killed at step {kill_at} and mid-save"
