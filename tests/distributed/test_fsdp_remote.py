"""FSDP2's sharded checkpoints on a real S3-compatible server (moto on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("engine_torch")
pytest.importorskip("engine_fsspec")
pytest.importorskip("moto.server")

from dist_helpers import engine, max_difference, torch_spec, weights, write_spec
from engine_fsspec.pytest_fixtures import bucket, dummy_credentials, s3  # noqa: F401 - fixtures


def test_fsdp_checkpoints_on_s3_resume_with_another_number_of_processes(tmp_path: Path, single_run: Path,
                                                                        s3, bucket) -> None:  # noqa: F811
    def spec(**loop: object) -> dict:
        spec = torch_spec("fsdp", "fsdp", **loop)
        spec["checkpoint"]["storage"] = f"s3://{bucket}/fsdp"
        spec["checkpoint"]["storage_options"] = {"filesystem": {"endpoint_url": s3.endpoint}}
        return spec

    write_spec(tmp_path, spec(max_steps=8, max_epochs=None))
    first = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "runs" / "fsdp"
    assert not (run_dir / "checkpoints").exists()  # the shards went to the bucket
    stored = s3.objects(bucket, "fsdp/")
    assert {"fsdp/step-000000004/MANIFEST.json", "fsdp/step-000000008/MANIFEST.json"} <= set(stored)
    backend = json.loads(stored["fsdp/step-000000008/backend.json"])
    assert "sharded" in backend and "model" not in backend  # DCP's per-rank files, not a gathered model

    # the 2-process sharded checkpoint, read back from S3 by 1 process (DCP reshards it)
    write_spec(tmp_path, spec())
    second = engine("run", "spec.toml", "--resume", "-q", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert max_difference(weights(run_dir), weights(single_run)) < 1e-6
