"""ZeRO stages 1-3 in real torchrun/gloo processes on 127.0.0.1 (DeepSpeed's CPU accelerator)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("deepspeed")
pytest.importorskip("engine_torch")

from ds_helpers import losses, max_difference, summary, torch_spec, torchrun, weights, write_spec

TOLERANCE = 1e-5
#: Per ZeRO stage, the spec's changes: stage 3 in bf16-mixed (float32 master weights) with
#: gradient accumulation and clipping, stages 1 and 2 in float32 as one process would train.
SETTINGS: dict[int, dict[str, Any]] = {
    1: {}, 2: {},
    3: {"precision": {"use": "bf16-mixed"}, "backend": {"batch_size": 8, "accumulate": 2, "clip_norm": 0.5}},
}


def spec(stage: int, name: str, **loop: Any) -> dict[str, Any]:
    result = torch_spec(name, {"zero_stage": stage}, **loop)
    for section, values in SETTINGS[stage].items():
        result.setdefault(section, {}).update(values)
    return result


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], tuple[Path, str]]:
    """The run of each stage that never stopped (made once, shared by the tests below)."""
    made: dict[int, tuple[Path, str]] = {}

    def run(stage: int) -> tuple[Path, str]:
        if stage not in made:
            cwd = tmp_path_factory.mktemp(f"zero{stage}")
            write_spec(cwd, spec(stage, "whole"))
            done = torchrun("run", "spec.toml", "--plain", cwd=cwd)
            assert done.returncode == 0, done.stderr
            made[stage] = (cwd / "runs" / "whole", done.stderr)
        return made[stage]
    return run


def check_completed(run_dir: Path, steps: int) -> None:
    done = summary(run_dir)
    assert done["status"] == "completed" and done["steps"] == steps, done
    assert (run_dir / "model" / "final.safetensors").is_file()
    logged = losses(run_dir)
    assert len(logged) == steps and logged[-1] < logged[0] / 2, logged  # the loss falls


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_each_zero_stage_trains_and_the_loss_falls(whole_run: Callable[[int], tuple[Path, str]],
                                                   single_run: Path, stage: int) -> None:
    run_dir, stderr = whole_run(stage)
    check_completed(run_dir, steps=12)
    assert stderr.count("  status ") == 1, stderr  # rank 0 alone reports
    if not SETTINGS[stage]:
        # DeepSpeed averages the gradients of both halves of each global batch: one process's result
        assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE
        assert summary(run_dir)["metrics"]["val/loss"] == pytest.approx(
            summary(single_run)["metrics"]["val/loss"], abs=1e-5)


@pytest.mark.parametrize("stage", [2, 3])
def test_a_resumed_run_ends_with_the_same_bits_as_one_that_never_stopped(
        tmp_path: Path, whole_run: Callable[[int], tuple[Path, str]], stage: int) -> None:
    """DeepSpeed's own checkpoint files, written through the engine's storage, resume exactly."""
    whole, _ = whole_run(stage)
    write_spec(tmp_path, spec(stage, "stopped", max_steps=8, max_epochs=None))
    first = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "runs" / "stopped"
    assert (run_dir / "checkpoints" / "step-000000008" / "MANIFEST.json").is_file()
    write_spec(tmp_path, spec(stage, "stopped"))
    second = torchrun("run", "spec.toml", "--resume", "-q", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert summary(run_dir)["steps"] == 12
    assert max_difference(weights(run_dir), weights(whole)) == 0.0
    assert losses(run_dir) == losses(whole)


def test_zero3_with_optimizer_state_and_parameters_offloaded_trains_as_one_process(
        tmp_path: Path, single_run: Path) -> None:
    write_spec(tmp_path, torch_spec("offload", {"zero_stage": 3, "offload_optimizer": True, "offload_param": True}))
    done = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "offload"
    check_completed(run_dir, steps=12)
    assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE
