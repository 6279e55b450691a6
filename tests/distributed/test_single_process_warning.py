"""A ``ddp``/``fsdp`` spec run without ``--nproc`` or torchrun trains as one process, and says so once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, torch_spec, write_spec

WARNING = ("engine: warning: strategy 'ddp' runs as one process: no launcher started others — pass "
           "`engine run --nproc N` (or launch with torchrun) to train in N processes")


def test_ddp_without_nproc_warns_once_that_it_runs_as_one_process(tmp_path: Path) -> None:
    write_spec(tmp_path, torch_spec("ddp", "ddp", max_steps=2, max_epochs=None))
    done = engine("run", "spec.toml", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(WARNING) == 1, done.stderr
    summary = json.loads((tmp_path / "runs" / "ddp" / "summary.json").read_text())
    assert summary["status"] == "completed"


def test_ddp_with_nproc_does_not_warn(tmp_path: Path) -> None:
    write_spec(tmp_path, torch_spec("ddp", "ddp", max_steps=2, max_epochs=None))
    done = engine("run", "spec.toml", "--nproc", "1", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "runs as one process" not in done.stderr, done.stderr
