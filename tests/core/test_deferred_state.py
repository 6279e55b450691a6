"""Deferred bytes in a participant's state: written, restored exactly, made in the background."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine import hookimpl
from engine._core.checkpoint.manager import CheckpointManager
from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions
from engine.testing import run_spec

FILE = "test-plugin-0.0.bin"  # the first bytes value of the first extra plugin


class Deferred:
    """Deferred bytes (``__bytes__``): records the thread that turns it into bytes."""

    def __init__(self, data: bytes, *, fail: bool = False, seconds: float = 0.0,
                 events: list[str] | None = None):
        self.data, self.fail, self.seconds, self.events = data, fail, seconds, events
        self.threads: list[threading.Thread] = []

    def __bytes__(self) -> bytes:
        self.threads.append(threading.current_thread())
        time.sleep(self.seconds)
        if self.fail:
            raise OSError("the host copy is gone")
        if self.events is not None:
            self.events.append("bytes")
        return self.data


def payload(step: int) -> bytes:
    return hashlib.sha256(str(step).encode()).digest() * 1024


class Blob:
    """A plugin whose state is a payload that changes every step, returned as deferred bytes."""

    def __init__(self, *, fail: bool = False):
        self.fail = fail
        self.data = b""
        self.made: list[Deferred] = []
        self.loaded: list[dict[str, Any]] = []

    @hookimpl
    def on_step(self, run: Any) -> None:
        self.data = payload(run.step)

    def state_dict(self) -> dict[str, Any]:
        self.made.append(Deferred(self.data, fail=self.fail))
        return {"payload": self.made[-1], "size": len(self.data)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loaded.append(state)
        self.data = state["payload"]


def spec(max_steps: int, asynchronous: bool, on_error: str = "warn") -> dict[str, Any]:
    return {"run": {"name": "r", "seed": 1},
            "loop": {"max_steps": max_steps, "checkpoint_every": "5 steps", "eval_every": "never"},
            "backend": {"use": "testing", "train_size": 64, "batch_size": 8},
            "checkpoint": {"asynchronous": asynchronous, "on_error": on_error, "keep_last": 10}}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_deferred_value_is_written_and_restored_exactly(tmp_path, asynchronous):
    first = Blob()
    assert run_spec(spec(10, asynchronous), tmp_path / "r", plugins=[first]).status == "completed"
    for step in (5, 10):
        assert (tmp_path / f"r/checkpoints/step-{step:09d}" / FILE).read_bytes() == payload(step)

    resumed = Blob()
    result = run_spec(spec(12, asynchronous), tmp_path / "r", plugins=[resumed], resume=True)
    assert result.status == "completed" and result.summary["steps"] == 12
    assert resumed.loaded == [{"payload": payload(10), "size": len(payload(10))}]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_deferred_values_become_bytes_in_the_background_when_asynchronous(tmp_path, asynchronous):
    blob = Blob()
    run_spec(spec(15, asynchronous), tmp_path / "r", plugins=[blob])
    threads = [thread for value in blob.made for thread in value.threads]
    assert len(threads) == 3  # steps 5, 10 and 15, each turned into bytes once
    in_loop = [thread is threading.main_thread() for thread in threads]
    assert in_loop == [not asynchronous] * 3
    if asynchronous:
        assert all(thread.name.startswith("engine-checkpoint") for thread in threads)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_deferred_value_that_fails_is_a_failed_save_and_training_goes_on(tmp_path, capfd, asynchronous):
    result = run_spec(spec(10, asynchronous), tmp_path / "r", plugins=[Blob(fail=True)])
    assert result.summary["steps"] == 10
    err = capfd.readouterr().err
    assert err.count("could not write the checkpoint of step") == 2
    assert "OSError: the host copy is gone" in err and "training goes on" in err
    assert not list((tmp_path / "r").glob("checkpoints/step-*"))  # nothing committed
    assert result.status == "failed" and "no checkpoint was written" in str(result.error)  # so it failed


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_deferred_value_that_fails_can_be_fatal(tmp_path, asynchronous):
    result = run_spec(spec(10, asynchronous, on_error="fail"), tmp_path / "r", plugins=[Blob(fail=True)])
    assert result.status == "failed" and result.exit_code == 1
    assert "could not write the checkpoint of step 5" in str(result.error)
    assert "OSError: the host copy is gone" in str(result.error)


def test_a_save_waits_for_the_one_in_flight_before_its_snapshot(tmp_path: Path):
    events: list[str] = []

    class Slow:
        def state_dict(self) -> dict[str, Any]:
            events.append("snapshot")
            return {"value": Deferred(b"x" * 1000, seconds=0.1, events=events)}

        def load_state_dict(self, state: dict[str, Any]) -> None: ...

    manager = CheckpointManager(LocalStorage(LocalStorageOptions(url=str(tmp_path / "c"))), asynchronous=True)
    for step in (1, 2, 3):
        manager.submit({"slow": Slow()}, step=step, epoch=0, metrics={})
    done = manager.drain()
    manager.close()
    assert events == ["snapshot", "bytes"] * 3
    assert [getattr(info, "step", None) for info in done] == [1, 2, 3]
