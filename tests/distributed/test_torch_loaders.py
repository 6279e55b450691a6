"""A ready DataLoader under DDP: each process keeps its half of every batch, as with a dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, max_difference, metrics_steps, single_process_run, torch_spec, weights, write_spec

TOLERANCE = 1e-6


def loader_spec(name: str, strategy: str | None, **data_args: Any) -> dict[str, Any]:
    """``torch_spec`` with ``disttoy.loaders``: batches of 16 in order, 6 per epoch."""
    spec = torch_spec(name, strategy)
    spec["backend"]["data"] = "disttoy:loaders"
    if data_args:
        spec["backend"]["data_args"] = data_args
    return spec


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def single_loader_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One process, no strategy, the ready DataLoaders: the reference of the DDP run."""
    return single_process_run(tmp_path_factory.mktemp("single-loader"), loader_spec("single", None))


def test_two_processes_on_a_ready_loader_match_one(tmp_path: Path, single_loader_run: Path) -> None:
    spec = loader_spec("ddp", "ddp")
    spec["backend"]["model"] = "disttoy:CountRows"  # Tiny, logging the rows each process trains on
    write_spec(tmp_path, spec)
    done = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_dir = tmp_path / "runs" / "ddp"
    for rank in (0, 1):  # each process trained on its 8 rows of every batch of 16, not the whole loader
        assert (tmp_path / f"rows-{rank}.txt").read_text().split() == ["8"] * 12
    single, ddp = summary(single_loader_run), summary(run_dir)
    # 6 global batches per epoch, not 6 per process on the whole loader each
    assert ddp["status"] == "completed" and ddp["steps"] == single["steps"] == 12, ddp
    assert metrics_steps(run_dir) == metrics_steps(single_loader_run)
    assert max_difference(weights(run_dir), weights(single_loader_run)) < TOLERANCE
    # evaluation: each process scores its half of every validation batch; the sums are reduced
    assert ddp["metrics"]["val/loss"] == pytest.approx(single["metrics"]["val/loss"], abs=1e-6)
    assert ddp["metrics"]["val/accuracy"] == pytest.approx(single["metrics"]["val/accuracy"])


def test_a_loader_batch_that_does_not_split_over_the_processes_is_one_clear_error(tmp_path: Path) -> None:
    write_spec(tmp_path, loader_spec("odd", "ddp", batch_size=15))
    done = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "the DataLoader's batch_size 15 does not split evenly over 2 processes" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
