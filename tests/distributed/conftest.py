"""Fixtures of the distributed tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from dist_helpers import single_process_run, torch_spec


@pytest.fixture(scope="session")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One process, no strategy: the reference every distributed torch run is compared with."""
    return single_process_run(tmp_path_factory.mktemp("single"), torch_spec("single", None))
