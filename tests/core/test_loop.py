"""The loop: order of events, limits, cadences, stopping, and the non-finite loss policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine.cadence import Every, parse_every
from engine.testing import HookRecorder, run_spec


def spec(**loop):  # type: ignore[no-untyped-def]
    """8 steps per epoch (64 rows, batch 8)."""
    return {"run": {"seed": 1}, "loop": {"log_every": 4, **loop},
            "backend": {"use": "testing", "train_size": 64, "batch_size": 8}}


def test_events_fire_in_the_documented_order(tmp_path):
    recorder = HookRecorder()
    result = run_spec(spec(max_epochs=2, eval_every="1 epoch", checkpoint_every="8 steps"), tmp_path / "r",
                      plugins=[recorder])
    assert result.status == "completed" and result.exit_code == 0
    names = [n for n in recorder.names() if n != "on_log"]
    epoch = ["on_epoch_start"] + ["on_step"] * 8 + ["on_eval", "on_epoch_end", "on_checkpoint"]
    assert names == ["on_run_start", *epoch, *epoch, "on_run_end"]
    assert [c.step for c in recorder.of("on_eval")] == [8, 16]
    assert recorder.of("on_run_end")[0].kwargs["status"] == "completed"
    assert [c.kwargs["step"] for c in recorder.of("on_log") if "train/loss" in c.kwargs["metrics"]] == [4, 8, 12, 16]


def test_max_steps_wins_over_max_epochs(tmp_path):
    result = run_spec(spec(max_epochs=5, max_steps=11), tmp_path / "r")
    assert result.summary["steps"] == 11 and result.summary["epochs"] == 1
    assert "max_steps" in result.summary["reason"]


def test_max_time_stops_the_run(tmp_path):
    s = spec(max_time="0.3s", eval_every="never")
    s["backend"]["step_seconds"] = 0.02
    result = run_spec(s, tmp_path / "r")
    assert result.status == "completed"
    assert "max_time" in result.summary["reason"]
    assert 5 <= result.summary["steps"] <= 20


def test_final_evaluation_happens_at_the_last_step(tmp_path):
    recorder = HookRecorder()
    run_spec(spec(max_steps=13, eval_every="5 steps"), tmp_path / "r", plugins=[recorder])
    assert [c.step for c in recorder.of("on_eval")] == [5, 10, 13]


def test_time_cadence(tmp_path):
    recorder = HookRecorder()
    s = spec(max_steps=20, eval_every="0.05s")
    s["backend"]["step_seconds"] = 0.01
    run_spec(s, tmp_path / "r", plugins=[recorder])
    assert 2 <= recorder.count("on_eval") <= 8


@pytest.mark.parametrize(("text", "expected"), [
    ("3 steps", Every("steps", 3)), ("1 epoch", Every("epochs", 1)), (5, Every("steps", 5)),
    ("90s", Every("seconds", 90)), ("5 min", Every("seconds", 300)), ("2h", Every("seconds", 7200)),
])
def test_cadence_strings(text, expected):
    assert parse_every(text) == expected


@pytest.mark.parametrize("bad", ["0 steps", "-1 epochs", "1.5 epochs", "often", True, 0])
def test_bad_cadences(bad):
    with pytest.raises(ValueError):
        parse_every(bad)


def test_plugin_can_stop_the_run_and_request_a_checkpoint(tmp_path):
    class Stopper:
        @engine.hookimpl
        def on_step(self, run):
            if run.step == 3:
                run.request_checkpoint()
            if run.step == 5:
                run.stop("enough")

    result = run_spec(spec(max_steps=50, eval_every="never"), tmp_path / "r", plugins=[Stopper()])
    assert result.status == "stopped" and result.exit_code == 0
    assert result.summary["reason"] == "enough" and result.summary["steps"] == 5
    assert sorted(p.name for p in (tmp_path / "r/checkpoints").iterdir()) == ["step-000000003", "step-000000005"]


def test_early_stopping_after_patience(tmp_path):
    s = spec(max_epochs=200, eval_every="1 epoch")
    s["early_stop"] = {"monitor": "val/loss", "patience": 2, "min_delta": 10.0}
    result = run_spec(s, tmp_path / "r")
    assert result.status == "stopped"
    assert result.summary["steps"] == 3 * 8  # first eval sets the best, two more fail to beat it by 10
    assert "did not improve for 2 evaluations" in result.summary["reason"]


def test_early_stopping_on_a_metric_that_is_not_evaluated_is_refused_before_the_run(tmp_path):
    s = spec(max_epochs=3)
    s["early_stop"] = {"monitor": "val/acc"}
    with pytest.raises(engine.errors.SpecError, match=r"early_stop\.monitor: 'val/acc' is not a metric"):
        run_spec(s, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_non_finite_loss_stops_with_exit_1_and_keeps_the_last_good_checkpoint(tmp_path):
    s = spec(max_steps=40, checkpoint_every="8 steps", eval_every="never")
    s["backend"]["nan_at_step"] = 19
    recorder = HookRecorder()
    result = run_spec(s, tmp_path / "r", plugins=[recorder])
    assert result.status == "failed" and result.exit_code == 1
    assert "train/loss became nan" in result.summary["reason"]
    assert result.summary["steps"] == 20  # found at the log step after the loss went bad
    assert sorted(p.name for p in (tmp_path / "r/checkpoints").iterdir()) == ["step-000000008", "step-000000016"]
    assert recorder.of("on_run_end")[0].kwargs["status"] == "failed"
    assert "final" not in result.summary["model"]


def test_non_finite_loss_can_be_ignored(tmp_path):
    s = spec(max_steps=24, eval_every="never", on_nan="continue")
    s["backend"]["nan_at_step"] = 3
    assert run_spec(s, tmp_path / "r").status == "completed"


def test_a_failing_backend_fires_on_exception_then_on_run_end(tmp_path):
    s = spec(max_steps=30)
    s["backend"]["fail_at_step"] = 4
    recorder = HookRecorder()
    result = run_spec(s, tmp_path / "r", plugins=[recorder])
    assert result.status == "failed" and result.exit_code == 1
    assert recorder.names()[-2:] == ["on_exception", "on_run_end"]
    assert "RuntimeError" in str(result.error)
    summary = json.loads((Path(tmp_path) / "r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["steps"] == 3


def test_python_random_is_seeded_from_the_spec(tmp_path):
    import random

    draws = []

    class Draw:
        @engine.hookimpl
        def on_run_start(self, run):
            draws.append(random.random())

    run_spec(spec(max_steps=1), tmp_path / "a", plugins=[Draw()])
    run_spec(spec(max_steps=1), tmp_path / "b", plugins=[Draw()])
    assert draws[0] == draws[1]
