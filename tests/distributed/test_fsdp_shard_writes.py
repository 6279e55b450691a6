"""FSDP checkpoints written by every process straight to the checkpoint storage: each rank's
DCP file is stored by that rank, the manifest (committed by rank 0 after every rank reported
its files) lists them with sizes and checksums, and a resume is exact, on 2 processes or 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("engine_torch")

from dist_helpers import max_difference, torch_spec, torchrun, weights, write_spec

SHARDS = {"__0_0.distcp", "__1_0.distcp", ".metadata"}


def fsdp_spec(**loop: Any) -> dict[str, Any]:
    return torch_spec("fsdp", "fsdp", **loop)


def until_step_8(spec: dict[str, Any]) -> dict[str, Any]:
    spec["loop"].update(max_steps=8)
    spec["loop"].pop("max_epochs")
    return spec


def launch(cwd: Path, spec: dict[str, Any], *args: str, nproc: int = 2) -> None:
    write_spec(cwd, spec)
    done = torchrun("run", "spec.toml", "-q", *args, cwd=cwd, nproc=nproc)
    assert done.returncode == 0, done.stderr[-3000:]


def identical(a: dict[str, Any], b: dict[str, Any]) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


@pytest.fixture(scope="module")
def fsdp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted 2-process FSDP run: what every resumed one must end with."""
    cwd = tmp_path_factory.mktemp("fsdp-reference")
    launch(cwd, fsdp_spec())
    return cwd / "runs" / "fsdp"


def check_manifest(manifest: dict[str, Any], stored: dict[str, bytes]) -> None:
    import hashlib

    assert set(manifest["parts"]) == SHARDS
    for file, entry in manifest["parts"].items():
        assert entry["size"] == len(stored[file])
        assert entry["sha256"] == hashlib.sha256(stored[file]).hexdigest()
    backend = json.loads(stored["backend.json"])
    assert "model" not in backend and "files" not in backend["sharded"]  # no shard passed through rank 0


def test_each_rank_stores_its_shard_in_a_local_directory_and_a_resume_is_exact(tmp_path: Path,
                                                                                fsdp_run: Path) -> None:
    launch(tmp_path, until_step_8(fsdp_spec()))
    folder = tmp_path / "runs" / "fsdp" / "checkpoints" / "step-000000008"
    stored = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert set(stored) >= SHARDS
    check_manifest(json.loads(stored["MANIFEST.json"]), stored)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left behind

    launch(tmp_path, fsdp_spec(), "--resume")
    summary = json.loads((tmp_path / "runs" / "fsdp" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12
    assert identical(weights(tmp_path / "runs" / "fsdp"), weights(fsdp_run))


def test_two_processes_then_one_then_two_again(tmp_path: Path, fsdp_run: Path) -> None:
    spec = fsdp_spec(max_steps=4, max_epochs=None)
    launch(tmp_path, spec)
    launch(tmp_path, until_step_8(fsdp_spec()), "--resume", nproc=1)  # 2 shards read by 1 process
    manifest = json.loads((tmp_path / "runs/fsdp/checkpoints/step-000000008/MANIFEST.json").read_text())
    assert set(manifest["parts"]) == {"__0_0.distcp", ".metadata"}
    launch(tmp_path, fsdp_spec(), "--resume")  # 1 shard read by 2 processes
    assert max_difference(weights(tmp_path / "runs" / "fsdp"), weights(fsdp_run)) < 1e-6


def test_asynchronous_checkpoints_commit_after_every_rank_and_resume_exactly(tmp_path: Path,
                                                                             fsdp_run: Path) -> None:
    def spec(**loop: Any) -> dict[str, Any]:
        spec = fsdp_spec(**loop)
        spec["checkpoint"]["asynchronous"] = True
        return spec

    launch(tmp_path, until_step_8(spec()))
    checkpoints = tmp_path / "runs" / "fsdp" / "checkpoints"
    for name in ("step-000000004", "step-000000008"):
        stored = {path.name: path.read_bytes() for path in (checkpoints / name).iterdir()}
        check_manifest(json.loads(stored["MANIFEST.json"]), stored)
    launch(tmp_path, spec(), "--resume")
    assert identical(weights(tmp_path / "runs" / "fsdp"), weights(fsdp_run))


def test_a_rank_that_cannot_store_its_shard_leaves_no_committed_checkpoint(tmp_path: Path) -> None:
    spec = until_step_8(fsdp_spec())
    spec["run"]["plugins"] = ["shardfaults"]
    spec["checkpoint"]["storage"] = f"flaky://{tmp_path / 'ckpt'}"
    spec["checkpoint"]["on_exit"] = False
    write_spec(tmp_path, spec)
    done = torchrun("run", "spec.toml", "-q", cwd=tmp_path)
    assert "process 1 could not store its shard of step-000000008" in done.stderr, done.stderr[-3000:]
    assert "No space left on device (injected)" in done.stderr
    assert done.returncode == 0  # on_error = "warn": training went on after the failed save
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["step-000000004"]  # 8: never committed


class RunsACommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_stored_metadata_file_that_names_code_is_refused_on_resume(tmp_path: Path) -> None:
    import hashlib
    import pickle

    launch(tmp_path, fsdp_spec(max_steps=4, max_epochs=None))
    folder = tmp_path / "runs" / "fsdp" / "checkpoints" / "step-000000004"
    marker = tmp_path / "pwned"
    crafted = pickle.dumps(RunsACommand(marker))
    (folder / ".metadata").write_bytes(crafted)  # and a manifest that agrees: only the pickle is wrong
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["parts"][".metadata"] = {"size": len(crafted), "sha256": hashlib.sha256(crafted).hexdigest()}
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))

    write_spec(tmp_path, fsdp_spec())
    done = torchrun("run", "spec.toml", "-q", "--resume", cwd=tmp_path, nproc=1)
    assert done.returncode != 0
    assert "sharded state is damaged" in done.stderr and "posix.system" in done.stderr, done.stderr[-3000:]
    assert not marker.exists()


def test_each_rank_stores_its_shard_on_s3_and_a_resume_is_exact(tmp_path: Path, fsdp_run: Path,
                                                                s3, bucket) -> None:
    def spec(**loop: Any) -> dict[str, Any]:
        spec = fsdp_spec(**loop)
        spec["checkpoint"]["storage"] = f"s3://{bucket}/fsdp"
        spec["checkpoint"]["storage_options"] = {"filesystem": {"endpoint_url": s3.endpoint}}
        return spec

    launch(tmp_path, until_step_8(spec()))
    objects = s3.objects(bucket, "fsdp/step-000000008/")
    stored = {key.rsplit("/", 1)[1]: data for key, data in objects.items()}
    assert set(stored) >= SHARDS
    check_manifest(json.loads(stored["MANIFEST.json"]), stored)

    launch(tmp_path, spec(), "--resume")
    assert identical(weights(tmp_path / "runs" / "fsdp"), weights(fsdp_run))


try:  # the S3 fixtures, where engine-fsspec[s3] and moto are installed
    import moto.server  # noqa: F401
    from engine_fsspec.pytest_fixtures import bucket, dummy_credentials, s3  # noqa: F401
except ImportError:  # pragma: no cover
    @pytest.fixture
    def s3() -> None:
        pytest.skip("needs engine-fsspec[s3] and moto[server]")

    @pytest.fixture
    def bucket() -> None:
        pytest.skip("needs engine-fsspec[s3] and moto[server]")
