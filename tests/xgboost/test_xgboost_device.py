"""One device rule for every backend: ``device = "cuda"`` where there is none is refused by
``engine check`` and ``engine run`` with one line; ``device = "auto"`` trains on what is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_tabular.testing import passed_by_check_and_run, refused_by_check_and_run
from engine_xgboost.device import cuda_device_count

PARAMS = {"objective": "binary:logistic", "nthread": 1}

no_cuda = pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has a CUDA device")


def _spec(csv: Path, **backend: object) -> dict[str, object]:
    return {"loop": {"max_steps": 3},
            "backend": {"use": "xgboost", "params": PARAMS, "data": {"train": str(csv)}, **backend}}


@no_cuda
@pytest.mark.parametrize(("backend", "where"), [({"device": "cuda"}, "backend.device"),
                                                ({"device": "cuda:1"}, "backend.device"),
                                                ({"params": {**PARAMS, "device": "cuda"}}, "backend.params.device")])
def test_cuda_without_cuda_is_refused_in_one_line(csvs, tmp_path: Path, backend, where) -> None:
    refused_by_check_and_run(_spec(csvs[0], **backend), tmp_path, [f"{where}: device 'cuda", "auto"])


def test_an_unknown_device_is_refused(csvs, tmp_path: Path) -> None:
    refused_by_check_and_run(_spec(csvs[0], device="tpu"), tmp_path, ["backend.device", "'tpu'"])


@no_cuda
def test_auto_trains_on_the_cpu_without_cuda(csvs, tmp_path: Path) -> None:
    passed_by_check_and_run(_spec(csvs[0], device="auto"), tmp_path)
    summary = json.loads((tmp_path / "runs/spec/summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 3, summary
