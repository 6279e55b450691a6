"""``precision.use = "32-true"`` and ``"auto"`` through the CLI, and the warning for 16-mixed on CPU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from torch_helpers import assert_bit_identical, base_spec, engine, toml_spec, weights

CPU_16_MIXED = "engine: warning: precision.use: '16-mixed' on CPU is slower than '32-true'"


def run(tmp_path: Path, name: str, precision: str | None) -> Any:
    spec = base_spec()
    if precision is not None:
        spec["precision"] = {"use": precision}
    (tmp_path / f"{name}.toml").write_text(toml_spec(spec))
    result = engine("run", f"{name}.toml", "--run-dir", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("mode", ["32-true", "auto"])
def test_32_true_and_auto_on_cpu_train_as_without_a_precision_section(tmp_path: Path, mode: str) -> None:
    run(tmp_path, "default", None)
    result = run(tmp_path, "mode", mode)
    assert "warning" not in result.stderr
    assert_bit_identical(weights(tmp_path / "mode/model/final.safetensors"),
                         weights(tmp_path / "default/model/final.safetensors"))


def test_16_mixed_on_cpu_warns_once_and_still_trains(tmp_path: Path) -> None:
    result = run(tmp_path, "half", "16-mixed")
    assert result.stderr.count(CPU_16_MIXED) == 1
    assert json.loads((tmp_path / "half/summary.json").read_text())["status"] == "completed"
    (tmp_path / "check.toml").write_text((tmp_path / "half.toml").read_text())
    checked = engine("check", "check.toml", cwd=tmp_path)  # check says it before any run
    assert checked.returncode == 0 and checked.stderr.count(CPU_16_MIXED) == 1
