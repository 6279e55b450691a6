"""engine-torch adds torch's build and devices to env.json, only for a run that imported torch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch_helpers import base_spec, engine, toml_spec


def test_a_torch_run_records_torch_and_its_cuda_build(tmp_path: Path) -> None:
    spec = base_spec()
    spec["loop"]["max_epochs"] = 1
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    env = json.loads((tmp_path / "run/env.json").read_text())
    facts = env["runtime"]["torch"]
    assert facts["version"] == torch.__version__ == env["distributions"]["torch"]["version"]
    assert facts["cuda"] == torch.version.cuda
    assert facts["devices"] == [] and facts["cudnn"] is None  # a CPU run never initialises CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_a_cuda_run_records_its_devices_and_cudnn(tmp_path: Path) -> None:
    spec = base_spec(device="cuda")
    spec["loop"]["max_epochs"] = 1
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    env = json.loads((tmp_path / "run/env.json").read_text())
    facts = env["runtime"]["torch"]
    assert [device["name"] for device in facts["devices"]] == [
        torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]
    assert facts["cudnn"] == torch.backends.cudnn.version()
    if Path("/proc/driver/nvidia/version").is_file():  # the core reads the driver without CUDA
        assert env["gpu"]["driver"] and env["gpu"]["models"]


def test_a_run_of_another_backend_does_not_import_torch_for_the_record(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text('[backend]\nuse = "testing"\n[loop]\nmax_steps = 2\n'
                                        '[checkpoint]\nstorage_options = { fsync = false }\n')
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    env = json.loads((tmp_path / "run/env.json").read_text())
    assert "torch" not in env["runtime"] and "version" in env["distributions"]["torch"]
