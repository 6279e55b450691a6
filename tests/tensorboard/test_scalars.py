"""Scalars, the spec and hparams, read back with TensorBoard's EventAccumulator."""

from __future__ import annotations

import pytest
from tbtools import accumulate, hparams, logged, scalars, session_end_status
from tensorboard.plugins.hparams import api_pb2

from engine.testing import run_spec

SPEC = {
    "run": {"name": "tb-run", "seed": 3},
    "loop": {"max_steps": 40, "log_every": 2, "eval_every": "8 steps"},
    "backend": {"use": "testing", "lr": 0.05},
    "tracker": [{"use": "tensorboard"}],
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tb") / "run"
    result = run_spec(SPEC, directory)
    assert result.status == "completed"
    return result.dir, accumulate(result.dir / "tensorboard")


def test_every_metric_is_a_scalar_at_its_step(finished):
    run_dir, reader = finished
    tags = set(reader.Tags()["scalars"])
    assert {"train/loss", "lr", "val/loss", "val/mae", "perf/steps_per_sec"} <= tags
    for tag in ("train/loss", "lr", "val/loss", "val/mae"):
        expected = logged(run_dir, tag)
        got = scalars(reader, tag)
        assert [s for s, _ in got] == [s for s, _ in expected], tag
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-6), tag
    assert [s for s, _ in scalars(reader, "train/loss")] == list(range(2, 41, 2))
    assert [s for s, _ in scalars(reader, "val/loss")] == [8, 16, 24, 32, 40]


def test_throughput_is_steps_per_second(finished):
    _, reader = finished
    rates = scalars(reader, "perf/steps_per_sec")
    assert [s for s, _ in rates] == list(range(2, 41, 2))
    assert all(value > 0 for _, value in rates)


def test_effective_spec_is_text(finished):
    _, reader = finished
    text = reader.Tensors("spec")[0].tensor_proto.string_val[0].decode()
    assert 'name = "tb-run"' in text and "max_steps = 40" in text and 'use = "tensorboard"' in text


def test_hparams_hold_the_spec_values_in_the_run_directory(finished):
    run_dir, reader = finished
    values = hparams(reader)
    assert values["backend.use"] == "testing"
    assert values["backend.lr"] == pytest.approx(0.05)
    assert values["loop.max_steps"] == 40
    assert values["run.seed"] == 3
    assert session_end_status(reader) == api_pb2.STATUS_SUCCESS
    # One event file in the run's own folder: no extra run directory for the hparams (tensorboardX #519).
    entries = list((run_dir / "tensorboard").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("events.out.tfevents.")


def test_runs_sharing_a_log_dir_compare_side_by_side(tmp_path):
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer

    for name, lr in (("trial-a", 0.01), ("trial-b", 0.1)):
        spec = {**SPEC, "run": {"name": name}, "backend": {"use": "testing", "lr": lr},
                "tracker": [{"use": "tensorboard", "log_dir": str(tmp_path / "tb")}]}
        assert run_spec(spec, tmp_path / name).status == "completed"
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["trial-a", "trial-b"]
    multiplexer = EventMultiplexer().AddRunsFromDirectory(str(tmp_path / "tb"))
    multiplexer.Reload()
    assert sorted(multiplexer.Runs()) == ["trial-a", "trial-b"]
    lrs = {run: hparams(multiplexer.GetAccumulator(run))["backend.lr"] for run in multiplexer.Runs()}
    assert lrs == pytest.approx({"trial-a": 0.01, "trial-b": 0.1})


def test_fsspec_url_as_log_dir(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    spec = {**SPEC, "tracker": [{"use": "tensorboard", "log_dir": "memory://tensorboard-test"}]}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert fsspec.filesystem("memory").ls("/tensorboard-test/tb-run")
    reader = accumulate("memory://tensorboard-test/tb-run")
    assert [s for s, _ in scalars(reader, "train/loss")] == list(range(2, 41, 2))
