"""The loop: order of events, limits, cadences, stopping, and the non-finite loss policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine._core.cadence import Every, parse_every
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


class EvalEpochs:
    """Records ``(step, epoch)`` at each evaluation; implements no epoch hook."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    @engine.hookimpl
    def on_eval(self, run: engine.Run, metrics: dict[str, float]) -> None:
        self.seen.append((run.step, run.epoch))


@pytest.mark.parametrize("eval_every", ["5 steps", "3 epochs"])
def test_one_step_epochs_count_the_same_whether_or_not_a_plugin_observes_them(tmp_path, eval_every):
    """A boosting round is an epoch of one step: with nothing at an epoch's end the loop only
    counts it; a plugin with epoch hooks sees every one, and the run ends the same either way."""
    one_step_epochs = {"run": {"seed": 1}, "loop": {"max_steps": 12, "log_every": 4, "eval_every": eval_every},
                       "backend": {"use": "testing", "train_size": 8, "batch_size": 8}}
    quiet, observed, recorder = EvalEpochs(), EvalEpochs(), HookRecorder()
    alone = run_spec(one_step_epochs, tmp_path / "alone", plugins=[quiet])
    watched = run_spec(one_step_epochs, tmp_path / "watched", plugins=[observed, recorder])
    assert alone.summary["epochs"] == watched.summary["epochs"] == 12
    assert alone.summary["steps"] == watched.summary["steps"] == 12
    assert quiet.seen == observed.seen
    assert [step for step, _ in quiet.seen] == ([5, 10, 12] if eval_every == "5 steps" else [3, 6, 9, 12])
    assert recorder.count("on_epoch_start") == recorder.count("on_epoch_end") == 12
    assert [c.epoch for c in recorder.of("on_epoch_end")] == list(range(12))


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


@pytest.mark.parametrize("export", [True, False])
def test_a_stop_can_say_the_runs_models_are_not_wanted(tmp_path, export):
    class Stopper:
        @engine.hookimpl
        def on_step(self, run):
            if run.step == 5:
                run.stop("pruned", export=export)

    result = run_spec(spec(max_steps=50, eval_every="never"), tmp_path / "r", plugins=[Stopper()])
    assert result.status == "stopped" and result.summary["steps"] == 5
    assert bool(result.summary.get("model")) is export
    assert (tmp_path / "r" / "model").exists() is export


@pytest.mark.parametrize(("calls", "exported"), [([False], False), ([False, True], True), ([True, False], False)])
def test_the_last_set_export_before_the_end_decides_whether_the_run_exports(tmp_path, calls, exported):
    class Decider:
        @engine.hookimpl
        def on_step(self, run):
            if run.step <= len(calls):
                run.set_export(calls[run.step - 1])

    result = run_spec(spec(max_steps=10, eval_every="never"), tmp_path / "r", plugins=[Decider()])
    assert result.status == "completed"
    assert bool(result.summary.get("model")) is exported
    assert (tmp_path / "r" / "model").exists() is exported


def test_set_export_cannot_undo_a_stop_without_export(tmp_path):
    class Stopper:
        @engine.hookimpl
        def on_step(self, run):
            if run.step == 3:
                run.stop("pruned", export=False)
                run.set_export(True)

    result = run_spec(spec(max_steps=10, eval_every="never"), tmp_path / "r", plugins=[Stopper()])
    assert result.status == "stopped" and not result.summary.get("model")


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
    with pytest.raises(engine._core.errors.SpecError, match=r"early_stop\.monitor: 'val/acc' is not a metric"):
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


# ---------------------------------------------------------------- signals and non-finite values, via the CLI

#: A run plugin that sends this process the signal ``$SIGNAL_NAME`` at the end of step ``$SIGNAL_AT``,
#: as SLURM or Kubernetes would when preempting the job at that moment.
SIGNAL_PLUGIN = '''
import os
import signal

from engine import hookimpl


@hookimpl
def on_step(run):
    if run.step == int(os.environ.get("SIGNAL_AT", "0") or 0):
        os.kill(os.getpid(), getattr(signal, os.environ.get("SIGNAL_NAME", "SIGTERM")))


@hookimpl
def on_checkpoint(run):
    if run.should_stop and os.environ.get("KILL_AT_LAST_CHECKPOINT"):
        os.kill(os.getpid(), signal.SIGKILL)
'''

#: Noisy enough that an extra evaluation at the interrupt step would change when early stopping
#: fires: uninterrupted, it runs to step 60; an evaluation added at step 12 stopped it at step 20.
PREEMPTED = """
[run]
name = "r"
seed = 1
plugins = ["signal_at"]

[loop]
max_steps = 60
eval_every = "10 steps"
log_every = "5 steps"

[backend]
use = "testing"
noise = 1.0

[early_stop]
monitor = "val/loss"
patience = 2

[checkpoint]
monitor = "val/loss"
"""


def ended(run_dir: Path) -> dict:  # type: ignore[type-arg]
    """What a run ended with: summary (no wall time), final model bytes, metrics log (no wall times)."""
    summary = json.loads((run_dir / "summary.json").read_text())
    summary.pop("seconds")
    summary.pop("model")  # paths into each run's own directory
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("time")
    return {"summary": summary, "final": (run_dir / "model/final.json").read_bytes(),
            "best": (run_dir / "model/best.json").read_bytes(), "metrics": records}


@pytest.mark.parametrize(("signal_name", "code", "at"),
                         [("SIGTERM", 143, 12), ("SIGINT", 130, 17), ("SIGTERM", 143, 20)])
def test_a_run_preempted_by_a_signal_and_resumed_ends_as_if_never_interrupted(cli, tmp_path, signal_name, code, at):
    (tmp_path / "signal_at.py").write_text(SIGNAL_PLUGIN)
    (tmp_path / "spec.toml").write_text(PREEMPTED)
    assert cli("run", "spec.toml", "--quiet", "--run-dir", "reference").code == 0
    reference = ended(tmp_path / "reference")
    assert reference["summary"]["steps"] == 60 and reference["summary"]["status"] == "completed"

    stopped = cli("run", "spec.toml", "--quiet", env={"SIGNAL_AT": str(at), "SIGNAL_NAME": signal_name})
    assert stopped.code == code, stopped
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert (summary["status"], summary["steps"]) == ("interrupted", at)
    assert (tmp_path / f"runs/r/checkpoints/step-{at:09d}/MANIFEST.json").exists()
    records = (tmp_path / "runs/r/metrics.jsonl").read_text().splitlines()
    assert all(json.loads(line)["step"] <= (at // 5) * 5 for line in records), "the signal added a record"

    resumed = cli("run", "spec.toml", "--quiet", "--resume")
    assert resumed.code == 0, resumed
    assert ended(tmp_path / "runs/r") == reference


def test_a_non_finite_loss_at_the_last_step_fails_the_run_and_exports_nothing(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(PREEMPTED.replace('plugins = ["signal_at"]\n', ""))
    result = cli("run", "spec.toml", "--quiet", "--set", "loop.checkpoint_every=8", "--set", "loop.max_steps=20",
                 "--set", "backend.nan_at_step=20", "--set", "early_stop.patience=100")
    assert result.code == 1, result
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1
    assert "train/loss became nan by step 20" in summary["reason"]
    assert "the last good checkpoint is step-000000016" in summary["reason"]
    assert "the last good checkpoint is step-000000016" in result.err
    assert sorted(p.name for p in (tmp_path / "runs/r/checkpoints").iterdir()) == ["step-000000008", "step-000000016"]
    assert "final" not in summary["model"] and not (tmp_path / "runs/r/model/final.json").exists()


def test_a_non_finite_loss_before_any_checkpoint_says_none_was_written(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(PREEMPTED.replace('plugins = ["signal_at"]\n', ""))
    result = cli("run", "spec.toml", "--quiet", "--set", "loop.max_steps=10", "--set", "backend.nan_at_step=3")
    assert result.code == 1, result
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and "no good checkpoint was written" in summary["reason"]
    assert not (tmp_path / "runs/r/checkpoints").exists() or not list((tmp_path / "runs/r/checkpoints").iterdir())
    assert not (tmp_path / "runs/r/model").exists() or not list((tmp_path / "runs/r/model").iterdir())


def test_a_signal_after_the_loss_went_non_finite_fails_without_committing_a_checkpoint(cli, tmp_path):
    (tmp_path / "signal_at.py").write_text(SIGNAL_PLUGIN)
    (tmp_path / "spec.toml").write_text(PREEMPTED)
    result = cli("run", "spec.toml", "--quiet", "--set", "loop.checkpoint_every=4", "--set", "backend.nan_at_step=9",
                 env={"SIGNAL_AT": "9"})
    assert result.code == 1, result
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and "became nan by step 9" in summary["reason"]
    assert "the last good checkpoint is step-000000008" in summary["reason"]
    assert sorted(p.name for p in (tmp_path / "runs/r/checkpoints").iterdir()) == ["step-000000004", "step-000000008"]


def test_a_run_killed_after_its_early_stopping_checkpoint_ends_there_again_when_resumed(cli, tmp_path):
    (tmp_path / "signal_at.py").write_text(SIGNAL_PLUGIN)
    (tmp_path / "spec.toml").write_text(PREEMPTED)
    stop_early = ("--set", "early_stop.min_delta=0.05")
    assert cli("run", "spec.toml", "--quiet", "--run-dir", "reference", *stop_early).code == 0
    reference = ended(tmp_path / "reference")
    assert reference["summary"]["status"] == "stopped" and reference["summary"]["steps"] < 60

    killed = cli("run", "spec.toml", "--quiet", *stop_early, env={"KILL_AT_LAST_CHECKPOINT": "1"})
    assert killed.code == -9, killed
    assert not (tmp_path / "runs/r/summary.json").exists()
    resumed = cli("run", "spec.toml", "--quiet", "--resume", *stop_early)
    assert resumed.code == 0, resumed
    assert ended(tmp_path / "runs/r") == reference


def test_non_finite_weights_at_the_last_step_fail_the_run(cli, tmp_path):
    """The loss of the last step is finite (computed before its update), the weights it left are not."""
    (tmp_path / "spec.toml").write_text('[run]\nname = "w"\n[loop]\nmax_steps = 1\n'
                                        '[backend]\nuse = "testing"\nlr = 1.7e308\nnoise = 0.0\n')
    for run_dir, evaluation in (("evaluated", "1"), ("not-evaluated", "never")):
        result = cli("run", "spec.toml", "--quiet", "--run-dir", run_dir, "--set", f"loop.eval_every={evaluation}")
        assert result.code == 1, result
        summary = json.loads((tmp_path / run_dir / "summary.json").read_text())
        assert summary["status"] == "failed" and summary["reason"] == (
            "the model's weights became non-finite by step 1; no good checkpoint was written")
        assert not (tmp_path / run_dir / "model").exists() and not (tmp_path / run_dir / "checkpoints").exists()
        assert "val/loss" not in summary["metrics"]
