"""``engine run --nproc 2 --max-restarts K``: torchrun's elastic agent restarts the group when a
worker dies, every worker resumes from the newest committed checkpoint in the same run
directory, and the run ends with the weights of a run that was never interrupted."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, environment, free_port, torch_spec, weights, write_spec

#: Kills one worker of the first attempts of a group: ``$KILL_PLAN`` is ``rank:step[:how]`` per
#: attempt (``1:5,0:9``: in the first attempt rank 1 at step 5, after the first restart rank 0
#: at step 9). ``how`` is ``step`` (after the step, the default) or ``save``: while the
#: checkpoint of that step is being taken (this plugin is one of its participants).
KILLER = '''
import os
import signal

from engine import hookimpl

where = {"rank": -1, "step": -1}


def planned(how):
    plan = [kill.split(":") for kill in os.environ.get("KILL_PLAN", "").split(",") if kill]
    attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    if attempt < len(plan):
        rank, step, *rest = plan[attempt]
        if (int(rank), int(step), (rest or ["step"])[0]) == (where["rank"], where["step"], how):
            os.kill(os.getpid(), signal.SIGKILL)


@hookimpl
def on_step(run):
    where.update(rank=run.rank, step=run.step)
    planned("step")


def state_dict():
    planned("save")
    return {}


def load_state_dict(state):
    pass
'''

#: Seeded random kills: every run gets two (a random rank at a random step of 12, the second
#: after the first restart and after the first kill's step); 5 runs, 10 recoveries in all.
RUNS = 5


def elastic_spec(name: str, strategy: str = "ddp", **checkpoint: Any) -> dict[str, Any]:
    spec = torch_spec(name, strategy, checkpoint_every="2 steps")
    spec["run"]["plugins"] = ["killer"]
    spec["checkpoint"].update(checkpoint)
    return spec


def run_killed(directory: Path, spec: dict[str, Any], plan: list[tuple[int, int]] | list[str],
               *args: str) -> Any:
    (directory / "killer.py").write_text(KILLER)
    write_spec(directory, spec)
    kills = ",".join(kill if isinstance(kill, str) else f"{kill[0]}:{kill[1]}" for kill in plan)
    env = {**environment(directory), "KILL_PLAN": kills}
    return subprocess.run([sys.executable, "-m", "engine", "run", "spec.toml", "--nproc", "2", "-q", *args],
                          cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("uninterrupted")
    done = run_killed(directory, elastic_spec("elastic"), [])
    assert done.returncode == 0, done.stderr
    return directory / "runs" / "elastic"


@pytest.fixture(scope="module")
def uninterrupted_fsdp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("uninterrupted-fsdp")
    done = run_killed(directory, elastic_spec("elastic", "fsdp"), [])
    assert done.returncode == 0, done.stderr
    return directory / "runs" / "elastic"


def assert_same_weights(run_dir: Path, reference: Path) -> None:
    final, expected = weights(run_dir), weights(reference)
    assert final.keys() == expected.keys()
    assert all(final[k].equal(expected[k]) for k in final)  # bit-identical


def plans() -> list[list[tuple[int, int]]]:
    chosen = random.Random(18)
    out = []
    for _ in range(RUNS):
        first = chosen.randint(1, 9)
        out.append([(chosen.randint(0, 1), first), (chosen.randint(0, 1), chosen.randint(first + 1, 11))])
    return out


@pytest.mark.parametrize("plan", plans(), ids=lambda plan: "-".join(f"rank{r}@{s}" for r, s in plan))
def test_a_killed_worker_is_restarted_and_the_run_ends_as_if_never_stopped(
        tmp_path: Path, uninterrupted: Path, plan: list[tuple[int, int]]) -> None:
    done = run_killed(tmp_path, elastic_spec("elastic"), plan, "--max-restarts", "3")
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "elastic"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["elastic"]  # no elastic-2
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert summary["restarts"] == {"count": 2, "causes": [
        {"restart": n, "rank": rank, "exit_code": -9, "signal": "SIGKILL"} for n, (rank, _) in enumerate(plan, 1)]}
    restarts = [line for line in done.stderr.splitlines() if line.startswith("engine: restart ")]
    assert restarts == [f"engine: restart {n} of 3: worker rank {rank} was killed by SIGKILL; every worker "
                        "restarts from the newest committed checkpoint" for n, (rank, _) in enumerate(plan, 1)]
    assert_same_weights(run_dir, uninterrupted)


def test_a_restarted_group_resumes_the_run_directory_given(tmp_path: Path, uninterrupted: Path) -> None:
    done = run_killed(tmp_path, elastic_spec("elastic"), [(1, 5)], "--max-restarts", "1", "--run-dir", "mine")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "runs").exists()
    summary = json.loads((tmp_path / "mine" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["restarts"]["count"] == 1
    assert_same_weights(tmp_path / "mine", uninterrupted)


def test_without_max_restarts_a_killed_worker_ends_the_run(tmp_path: Path) -> None:
    done = run_killed(tmp_path, elastic_spec("once"), [(1, 3)])
    assert done.returncode == 1, done.stderr
    assert "engine: error: worker rank 1 was killed by SIGKILL; every worker was stopped" in done.stderr
    assert "engine: restart" not in done.stderr
    summary_file = tmp_path / "runs" / "once" / "summary.json"
    assert not summary_file.exists() or "restarts" not in json.loads(summary_file.read_text())


def test_torchrun_max_restarts_resumes_in_the_same_directory(tmp_path: Path, uninterrupted: Path) -> None:
    (tmp_path / "killer.py").write_text(KILLER)
    write_spec(tmp_path, elastic_spec("elastic"))
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=2",
               "--max-restarts=1", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{free_port()}",
               "-m", "engine", "run", "spec.toml", "-q"]
    done = subprocess.run(command, cwd=tmp_path, env={**environment(tmp_path), "KILL_PLAN": "0:6"},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["elastic"]
    run_dir = tmp_path / "runs" / "elastic"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["restarts"] == {"count": 1, "causes": [
        {"restart": 1, "rank": None, "exit_code": None, "signal": None, "cause": "unknown"}]}
    assert_same_weights(run_dir, uninterrupted)


@pytest.mark.parametrize(("plan", "checkpoint"), [
    (["0:6:save", "0:8:save"], {}),  # rank 0 dies while it writes the checkpoints of steps 6 and 8
    (["0:4", "0:8"], {"asynchronous": True}),  # right after the step: the background save is under way
], ids=["killed-while-saving", "killed-during-async-save"])
def test_a_worker_killed_during_a_checkpoint_save_is_recovered(
        tmp_path: Path, uninterrupted: Path, plan: list[str], checkpoint: dict[str, Any]) -> None:
    done = run_killed(tmp_path, elastic_spec("elastic", **checkpoint), plan, "--max-restarts", "2")
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "elastic"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["restarts"]["count"] == 2
    assert_same_weights(run_dir, uninterrupted)


def test_fsdp_workers_are_restarted_and_reshard_from_the_newest_checkpoint(
        tmp_path: Path, uninterrupted_fsdp: Path) -> None:
    done = run_killed(tmp_path, elastic_spec("elastic", "fsdp"), ["1:5", "1:8:save"], "--max-restarts", "2")
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "elastic"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["restarts"]["count"] == 2
    assert_same_weights(run_dir, uninterrupted_fsdp)


@pytest.mark.parametrize(("args", "line"), [
    (("--max-restarts", "2"), "engine: error: --max-restarts 2 restarts the workers of --nproc, which was not "
                              "given — add --nproc N, or pass --max-restarts to torchrun when it starts the workers"),
    (("--nproc", "2", "--max-restarts", "-1"), "engine: error: --max-restarts -1: the number of restarts cannot "
                                               "be negative — pass 0 or more, or leave it out"),
])
def test_max_restarts_that_cannot_work_is_one_line(tmp_path: Path, args: tuple[str, ...], line: str) -> None:
    write_spec(tmp_path, elastic_spec("mistake"))
    done = engine("run", "spec.toml", *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.splitlines() == [line], done.stderr
    assert not (tmp_path / "runs").exists()
