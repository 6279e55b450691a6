"""Fixtures for the catboost backend tests: breast cancer as train/valid CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_tabular.testing import write_breast_cancer


@pytest.fixture(scope="session")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_breast_cancer(tmp_path_factory.mktemp("data"))
