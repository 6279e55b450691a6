"""Training with the torch backend: metrics, export, data sources, losses, schedules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torchtoy
from engine_torch import load_model
from torch_helpers import assert_bit_identical, base_spec, weights

from engine import hookimpl
from engine.testing import HookRecorder, run_spec


def test_trains_exports_and_points_summary_at_the_model(tmp_path: Path) -> None:
    spec = base_spec()
    spec["checkpoint"] = {"monitor": "val/accuracy"}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed", result.summary
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    final = Path(summary["model"]["final"])
    assert final == tmp_path / "run" / "model" / "final.safetensors" and final.is_file()
    assert Path(summary["model"]["best"]).name == "best.safetensors"
    assert summary["metrics"]["val/accuracy"] > 0.9
    model = load_model(tmp_path / "run", trust_code=True)
    assert isinstance(model, torchtoy.Tiny) and not model.training
    x, y = torchtoy.datasets()["val"].tensors
    accuracy = (model(x).argmax(-1) == y).float().mean().item()
    assert accuracy == pytest.approx(summary["metrics"]["val/accuracy"])
    best = load_model(tmp_path / "run", which="best", trust_code=True)
    assert isinstance(best, torchtoy.Tiny)



def test_the_exported_file_has_the_same_bytes_for_the_same_weights(tmp_path: Path) -> None:
    """safetensors orders its metadata differently in each process; the export sorts it."""
    from engine_torch.export import save_model

    module = torchtoy.Tiny()
    path = save_model(module, tmp_path / "m.safetensors", model="torchtoy:Tiny", model_args={"hidden": 16})
    size = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + size])
    assert list(header["__metadata__"]) == ["engine.model", "engine.model_args"]
    assert next(iter(header)) == "__metadata__" and size % 8 == 0
    assert_bit_identical(weights(path), module.state_dict())
    assert isinstance(load_model(path, trust_code=True), torchtoy.Tiny)

#: What the torch backend logs with every training loss (engine_torch.sys_metrics).
SYSTEM = ("sys/memory_peak", "sys/samples_per_s")


def test_training_metrics_reach_the_host_only_at_the_log_cadence(tmp_path: Path) -> None:
    recorder = HookRecorder()
    run_spec(base_spec(), tmp_path / "run", plugins=[recorder])
    logs = [c for c in recorder.of("on_log") if "train/loss" in c.kwargs["metrics"]]
    assert [c.kwargs["step"] for c in logs] == list(range(2, 19, 2))
    assert all(set(c.kwargs["metrics"]) == {"train/loss", "lr", *SYSTEM} for c in logs)
    evals = recorder.of("on_eval")
    assert [c.step for c in evals] == [6, 12, 18]
    assert set(evals[0].kwargs["metrics"]) == {"val/loss", "val/accuracy"}


@pytest.mark.parametrize("data", ["torchtoy:item_datasets", "torchtoy:recording_datasets"])
def test_every_kind_of_dataset_gives_the_same_weights(tmp_path: Path, data: str) -> None:
    run_spec(base_spec(), tmp_path / "tensors")
    run_spec(base_spec(data=data), tmp_path / "other")
    assert_bit_identical(weights(tmp_path / "tensors/model/final.safetensors"),
                         weights(tmp_path / "other/model/final.safetensors"))


def test_workers_give_the_same_weights(tmp_path: Path) -> None:
    spec = base_spec(data="torchtoy:item_datasets", num_workers=1)
    spec["loop"]["max_epochs"] = 1
    run_spec(spec, tmp_path / "workers")
    spec["backend"]["num_workers"] = 0
    run_spec(spec, tmp_path / "inline")
    assert_bit_identical(weights(tmp_path / "workers/model/final.safetensors"),
                         weights(tmp_path / "inline/model/final.safetensors"))


def test_a_ready_dataloader_trains(tmp_path: Path) -> None:
    result = run_spec(base_spec(data="torchtoy:loader_datasets"), tmp_path / "run")
    assert result.status == "completed" and result.summary["steps"] == 18
    assert result.summary["metrics"]["val/accuracy"] > 0.8


def test_a_model_that_returns_its_own_loss(tmp_path: Path) -> None:
    result = run_spec(base_spec(model="torchtoy:LossModel", loss="model", metrics=["accuracy", "f1"]),
                      tmp_path / "run")
    assert result.status == "completed"
    assert result.summary["metrics"]["val/accuracy"] > 0.8 and "val/f1" in result.summary["metrics"]


def test_a_custom_step_function(tmp_path: Path) -> None:
    result = run_spec(base_spec(step="torchtoy:contrastive_step", metrics=[]), tmp_path / "run")
    assert result.status == "completed"
    assert set(result.summary["metrics"]) == {"train/loss", "lr", "val/loss", *SYSTEM}


def test_regression_loss_and_metrics(tmp_path: Path) -> None:
    spec = base_spec(data="torchtoy:regression", model_args={"classes": 1, "dropout": 0.0},
                     loss="mse", metrics=["mse", "mae"])
    result = run_spec(spec, tmp_path / "run")
    metrics = result.summary["metrics"]
    assert metrics["val/mse"] == pytest.approx(metrics["val/loss"], rel=1e-5)
    assert metrics["val/mae"] > 0


def test_test_split_is_evaluated_with_the_final_model(tmp_path: Path) -> None:
    result = run_spec(base_spec(data="torchtoy:with_test"), tmp_path / "run")
    assert {"test/loss", "test/accuracy"} <= set(result.summary["metrics"])


def test_gradient_accumulation_matches_one_large_batch(tmp_path: Path) -> None:
    common = {"model_args": {"dropout": 0.0}, "shuffle": False, "optimizer": {"use": "sgd", "lr": 0.1}}
    run_spec(base_spec(batch_size=8, accumulate=2, **common), tmp_path / "accumulated")
    run_spec(base_spec(batch_size=16, **common), tmp_path / "large")
    a = weights(tmp_path / "accumulated/model/final.safetensors")
    b = weights(tmp_path / "large/model/final.safetensors")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_clipping_by_value_bounds_each_update(tmp_path: Path) -> None:
    spec = base_spec(model_args={"dropout": 0.0}, optimizer={"use": "sgd", "lr": 1.0}, clip_value=1e-3)
    spec["loop"] = {"max_steps": 1}
    run_spec(spec, tmp_path / "run")
    torch.manual_seed(3)
    start = torchtoy.Tiny(dropout=0.0).state_dict()
    after = weights(tmp_path / "run/model/final.safetensors")
    change = max((after[k] - start[k]).abs().max().item() for k in start)
    assert 0 < change <= 1e-3 * (1 + 1e-4)  # float32 rounding of w + update


def test_biases_and_norm_weights_get_no_weight_decay(tmp_path: Path) -> None:
    # lr 0 moves nothing; AdamW's decoupled decay would still shrink decayed weights by lr*wd = 0,
    # so use a huge decay with SGD and zero gradients: only decay changes weights
    spec = base_spec(model_args={"dropout": 0.0}, optimizer={"use": "sgd", "lr": 0.5, "weight_decay": 1.0})
    spec["loop"] = {"max_steps": 1}
    spec["backend"]["loss"] = "torchtoy_losses:zero"
    run_spec(spec, tmp_path / "run")
    torch.manual_seed(3)
    start = torchtoy.Tiny(dropout=0.0).state_dict()
    after = weights(tmp_path / "run/model/final.safetensors")
    for key in ("inp.bias", "norm.weight", "norm.bias", "out.bias"):
        assert torch.equal(after[key], start[key]), key
    for key in ("inp.weight", "out.weight"):
        assert torch.equal(after[key], start[key] * 0.5), key


class Halving:
    """A local scheduler: the learning rate halves every step."""

    def factor(self, run: Any) -> float:
        return 0.5 ** run.step


class SchedulerPlugin:
    @hookimpl
    def engine_register_components(self, registry: Any) -> None:
        registry.add("scheduler", "test-halving", lambda options: Halving())


def test_a_scheduler_sets_every_groups_lr_before_each_step(tmp_path: Path) -> None:
    spec = base_spec()
    spec["scheduler"] = {"use": "test-halving"}
    recorder = HookRecorder()
    run_spec(spec, tmp_path / "run", plugins=[SchedulerPlugin(), recorder])
    lrs = {c.kwargs["step"]: c.kwargs["metrics"]["lr"] for c in recorder.of("on_log") if "lr" in c.kwargs["metrics"]}
    # the lr logged at step s is the one step s used: base * 0.5 ** (s - 1)
    assert lrs[2] == pytest.approx(0.01 * 0.5) and lrs[6] == pytest.approx(0.01 * 0.5 ** 5)


def test_deterministic_mode_and_threads_are_given_back_after_the_run(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    run_spec(base_spec(), tmp_path / "plain")
    result = run_spec(base_spec(deterministic=True, threads=1), tmp_path / "deterministic")
    assert result.status == "completed"
    assert not torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == threads
    assert_bit_identical(weights(tmp_path / "plain/model/final.safetensors"),
                         weights(tmp_path / "deterministic/model/final.safetensors"))
