"""Activation checkpointing through the CLI: same results (within float32 round-off), exact resume,
Hugging Face models through their own switch, and a clear refusal when there is nothing to wrap."""

from __future__ import annotations

import copy
import signal
from pathlib import Path
from typing import Any

import torch
from torch_helpers import assert_bit_identical, base_spec, engine, error_lines, toml_spec, weights

#: Checkpointed and plain runs agree to float32 round-off (observed: bit-identical on CPU).
RTOL, ATOL = 1e-5, 1e-6


def deep_spec(**backend: Any) -> dict[str, Any]:
    spec = base_spec(**{"model": "memtoy:DeepMLP", **backend})
    spec["loop"].update({"max_epochs": 2, "checkpoint_every": "4 steps"})
    return spec


def run(tmp_path: Path, name: str, spec: dict[str, Any], *args: str,
        env: dict[str, str] | None = None) -> Any:
    (tmp_path / f"{name}.toml").write_text(toml_spec(spec))
    return engine("run", f"{name}.toml", "--run-dir", name, "-q", *args, cwd=tmp_path, env=env)


def final(tmp_path: Path, name: str) -> dict[str, torch.Tensor]:
    return weights(tmp_path / name / "model/final.safetensors")


def test_wrapped_blocks_train_as_without_and_keep_their_names(tmp_path: Path) -> None:
    assert run(tmp_path, "plain", deep_spec()).returncode == 0
    result = run(tmp_path, "ckpt", deep_spec(activation_checkpointing=["Block"]))
    assert result.returncode == 0, result.stderr
    plain, ckpt = final(tmp_path, "plain"), final(tmp_path, "ckpt")
    assert plain.keys() == ckpt.keys()  # no wrapper prefix in the exported names
    for key in plain:
        torch.testing.assert_close(ckpt[key], plain[key], rtol=RTOL, atol=ATOL)


def test_resume_with_activation_checkpointing_is_exact(tmp_path: Path) -> None:
    spec = deep_spec(activation_checkpointing=["Block"])
    spec["run"]["plugins"] = ["torchtoy_kill"]
    assert run(tmp_path, "whole", spec).returncode == 0
    killed = run(tmp_path, "split", spec, env={"TORCHTOY_KILL_AT": "7"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = engine("run", "split.toml", "--run-dir", "split", "-q", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_bit_identical(final(tmp_path, "split"), final(tmp_path, "whole"))


def test_true_calls_a_hugging_face_models_own_switch(tmp_path: Path) -> None:
    marker = tmp_path / "enabled.txt"
    spec = deep_spec(model="memtoy:HFLike", model_args={"marker": str(marker)}, activation_checkpointing=True)
    result = run(tmp_path, "hf", spec)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "{'use_reentrant': False}"
    plain = copy.deepcopy(spec)
    plain["backend"]["activation_checkpointing"] = False
    assert run(tmp_path, "plain", plain).returncode == 0
    for key, value in final(tmp_path, "plain").items():
        torch.testing.assert_close(final(tmp_path, "hf")[key], value, rtol=RTOL, atol=ATOL)


def test_true_without_a_switch_is_refused_by_check_naming_the_classes(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(toml_spec(deep_spec(activation_checkpointing=True)))
    result = engine("check", "spec.toml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert line.startswith("engine: error: backend.activation_checkpointing:")
    assert "gradient_checkpointing_enable" in line and 'activation_checkpointing = ["Block"]' in line


def test_unknown_class_names_and_bad_values_are_refused(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text(toml_spec(deep_spec(activation_checkpointing=["Bock"])))
    result = engine("check", "spec.toml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert "'Bock'" in line and "Block" in line and "LayerNorm" in line
    (tmp_path / "spec.toml").write_text(toml_spec(deep_spec(activation_checkpointing="yes")))
    result = engine("check", "spec.toml", cwd=tmp_path)
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert "backend.activation_checkpointing: expected true, false or a list" in line
    assert not (tmp_path / "runs").exists()
