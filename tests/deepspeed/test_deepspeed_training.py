"""ZeRO stages 1-3 in real torchrun/gloo processes on 127.0.0.1 (DeepSpeed's CPU accelerator)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("deepspeed")
pytest.importorskip("engine_torch")

from ds_helpers import losses, max_difference, summary, torch_spec, torchrun, weights, write_spec

TOLERANCE = 1e-5


def check_completed(run_dir: Path, steps: int) -> None:
    done = summary(run_dir)
    assert done["status"] == "completed" and done["steps"] == steps, done
    assert (run_dir / "model" / "final.safetensors").is_file()
    logged = losses(run_dir)
    assert len(logged) == steps and logged[-1] < logged[0] / 2, logged  # the loss falls


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_each_zero_stage_trains_two_processes_as_one_with_the_same_global_batch(
        tmp_path: Path, single_run: Path, stage: int) -> None:
    write_spec(tmp_path, torch_spec(f"zero{stage}", {"zero_stage": stage}))
    done = torchrun("run", "spec.toml", "--plain", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / f"zero{stage}"
    check_completed(run_dir, steps=12)
    # DeepSpeed averages the gradients of both halves of each global batch: the one-process result
    assert max_difference(weights(run_dir), weights(single_run)) < TOLERANCE
    assert summary(run_dir)["metrics"]["val/loss"] == pytest.approx(summary(single_run)["metrics"]["val/loss"],
                                                                     abs=1e-5)
    assert done.stderr.count("  status ") == 1, done.stderr  # rank 0 alone reports


def test_a_resumed_run_ends_with_the_same_bits_as_one_that_never_stopped(tmp_path: Path) -> None:
    """ZeRO 3, bf16-mixed (float32 master weights), accumulation and clipping: DeepSpeed's own
    checkpoint files, written through the engine's storage, resume exactly."""
    def spec(name: str, **loop: object) -> dict:
        s = torch_spec(name, {"zero_stage": 3}, **loop)
        s["precision"] = {"use": "bf16-mixed"}
        s["backend"].update(batch_size=8, accumulate=2, clip_norm=0.5)
        return s

    write_spec(tmp_path, spec("whole"))
    whole = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    check_completed(tmp_path / "runs" / "whole", steps=12)

    write_spec(tmp_path, spec("stopped", max_steps=8, max_epochs=None))
    first = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "runs" / "stopped"
    assert (run_dir / "checkpoints" / "step-000000008" / "MANIFEST.json").is_file()
    write_spec(tmp_path, spec("stopped"))
    second = torchrun("run", "spec.toml", "--resume", "-q", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert summary(run_dir)["steps"] == 12
    assert max_difference(weights(run_dir), weights(tmp_path / "runs" / "whole")) == 0.0
    assert losses(run_dir) == losses(tmp_path / "runs" / "whole")
