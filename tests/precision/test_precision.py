"""Precision modes with the torch backend: dtypes, exact resume with a scaler, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from engine_precision.modes import supports
from torch_helpers import assert_bit_identical, base_spec, engine, error_lines, toml_spec, weights

from engine._core.errors import EngineError
from engine.testing import run_spec

WEIGHT_DTYPES = {"64-true": torch.float64, "16-mixed": torch.float32, "bf16-mixed": torch.float32,
                 "bf16-true": torch.bfloat16}


@pytest.mark.parametrize("mode", list(WEIGHT_DTYPES))
def test_each_mode_trains_on_cpu_with_its_weight_dtype(tmp_path: Path, mode: str) -> None:
    spec = base_spec(optimizer={"use": "adamw", "lr": 0.02, "eps": 1e-6})
    spec["precision"] = {"use": mode}
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed", result.summary
    assert result.summary["metrics"]["val/accuracy"] > 0.8
    final = weights(tmp_path / "run/model/final.safetensors")
    assert {t.dtype for t in final.values()} == {WEIGHT_DTYPES[mode]}


def test_mixed_precision_changes_the_arithmetic(tmp_path: Path) -> None:
    run_spec(base_spec(), tmp_path / "fp32")
    spec = base_spec()
    spec["precision"] = {"use": "bf16-mixed"}
    run_spec(spec, tmp_path / "bf16")
    a, b = weights(tmp_path / "fp32/model/final.safetensors"), weights(tmp_path / "bf16/model/final.safetensors")
    assert any(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("mode", ["16-mixed", "bf16-true"])
def test_resume_is_exact_and_the_scaler_is_checkpointed(tmp_path: Path, mode: str) -> None:
    spec = base_spec()
    spec["precision"] = {"use": mode}
    run_spec(spec, tmp_path / "whole")
    run_spec({**spec, "loop": {**spec["loop"], "max_steps": 8}}, tmp_path / "split")  # mid-epoch
    backend = json.loads(next((tmp_path / "split/checkpoints").glob("step-*/backend.json")).read_text())
    if mode == "16-mixed":
        assert backend["scaler"]["scale"] > 0 and "_growth_tracker" in backend["scaler"]
    else:
        assert backend["scaler"] is None
    run_spec(spec, tmp_path / "split", resume=True)
    assert_bit_identical(weights(tmp_path / "split/model/final.safetensors"),
                         weights(tmp_path / "whole/model/final.safetensors"))


def test_a_backend_that_cannot_use_the_mode_fails_engine_check(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(toml_spec({
        "loop": {"max_steps": 5}, "backend": {"use": "testing"}, "precision": {"use": "bf16-mixed"}}))
    result = engine("check", "spec.toml", cwd=tmp_path)
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "precision.use" in lines[0] and "'testing'" in lines[0] and "'bf16-mixed'" in lines[0]


def test_a_mode_the_device_cannot_compute_in_is_refused_at_start(tmp_path: Path) -> None:
    spec = base_spec()
    spec["run"]["plugins"] = ["precision_toy"]
    spec["precision"] = {"use": "fp8-test"}
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", cwd=tmp_path,
                    env={"PYTHONPATH": f"{Path(__file__).parent}:{Path(__file__).parent.parent / 'torch'}"})
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "device 'cpu' cannot compute in float8_e4m3fn" in lines[0] and "precision.use" in lines[0]


def _devices() -> list[torch.device]:
    found = [torch.device("cpu")]
    if torch.cuda.is_available():
        found += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    return found


@pytest.mark.parametrize("mode", ["bf16-mixed", "bf16-true"])
def test_bf16_on_a_device_that_lacks_it_is_refused(tmp_path: Path, mode: str) -> None:
    lacking = [d for d in _devices() if not supports(d, torch.bfloat16)]
    if not lacking:
        pytest.skip("every device on this machine computes in bfloat16")
    spec = base_spec(device=str(lacking[0]))
    spec["precision"] = {"use": mode}
    with pytest.raises(EngineError, match="cannot compute in bfloat16"):
        run_spec(spec, tmp_path / "run")
