"""Fixtures of the schedulers suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from schedtools import train


@pytest.fixture
def curve_of(tmp_path: Path):  # type: ignore[no-untyped-def]
    return lambda scheduler, **loop: train(tmp_path, scheduler, **loop)
