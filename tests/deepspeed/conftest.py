"""Fixtures of the deepspeed tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ds_helpers import engine, torch_spec, write_spec


@pytest.fixture(scope="session")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One process, no strategy: the reference every deepspeed run in fp32 is compared with."""
    cwd = tmp_path_factory.mktemp("single")
    write_spec(cwd, torch_spec("single", None))
    done = engine("run", "spec.toml", "-q", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd / "runs" / "single"
