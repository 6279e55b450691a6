"""``[tune] devices``: each worker that ``--workers N`` starts sees one device of its own
(``CUDA_VISIBLE_DEVICES``). Tested on CPU: a local plugin records what each trial's process sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna_helpers import envspy_records, envspy_spec


def _spec(tmp_path: Path, devices: str) -> None:
    envspy_spec(tmp_path, ("CUDA_VISIBLE_DEVICES",), devices)


def _seen_by_worker(tmp_path: Path) -> dict[int, set[str | None]]:
    return {pid: {record["CUDA_VISIBLE_DEVICES"] for record in records}
            for pid, records in envspy_records(tmp_path).items()}


@pytest.mark.parametrize("devices, parent, expected", [
    ('devices = ["3", "7"]', "0,1,2,3,4,5,6,7", {"3", "7"}),  # the list, not the parent's devices
    ('devices = "auto"', "5,6", {"5", "6"}),  # the parent's devices, never wider
])
def test_each_worker_sees_one_device_of_its_own(cli, tmp_path: Path, devices: str, parent: str,
                                                 expected: set[str]) -> None:
    _spec(tmp_path, devices)
    result = cli("tune", "spec.toml", "--workers", "2", env={"CUDA_VISIBLE_DEVICES": parent}, timeout=300)
    assert result.code == 0, result
    seen = _seen_by_worker(tmp_path)
    assert len(seen) == 2, f"both workers should run trials: {seen}"
    for devices_seen in seen.values():
        assert len(devices_seen) == 1 and devices_seen <= expected, seen
    assert set.union(*seen.values()) == expected  # the two workers saw different devices
    assert f"devices {', '.join(sorted(expected))}" in result.err


def test_auto_finds_the_gpus_nvidia_smi_lists(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"  # two GPUs, the second split into MIG devices
    fake.write_text('#!/bin/sh\necho "GPU 0: NVIDIA H100 (UUID: GPU-a)"\necho "GPU 1: NVIDIA H100 (UUID: GPU-b)"\n'
                    'echo "  MIG 1g.10gb     Device  0: (UUID: MIG-c)"\n')
    fake.chmod(0o755)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    _spec(tmp_path, "")  # devices = "auto" by default
    result = cli("tune", "spec.toml", "--workers", "2", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
                 timeout=300)
    assert result.code == 0, result
    seen = _seen_by_worker(tmp_path)
    assert len(seen) == 2 and all(len(devices) == 1 for devices in seen.values()), seen
    assert set.union(*seen.values()) == {"0", "1"}


def test_no_devices_leaves_the_workers_environment_alone(cli, tmp_path: Path) -> None:
    _spec(tmp_path, 'devices = "none"')
    result = cli("tune", "spec.toml", "--workers", "2", env={"CUDA_VISIBLE_DEVICES": "2,4"}, timeout=300)
    assert result.code == 0, result
    assert set.union(*_seen_by_worker(tmp_path).values()) == {"2,4"}


@pytest.mark.parametrize("command", ["tune", "check"])
@pytest.mark.parametrize("devices", ['"gpu"', "[]", '["0,1"]'])
def test_bad_devices_are_one_line_and_exit_2(cli, tmp_path: Path, command: str, devices: str) -> None:
    _spec(tmp_path, f"devices = {devices}")
    result = cli(command, "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and "tune.devices: cannot use" in result.error_lines[0], result
    assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()
