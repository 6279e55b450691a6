"""engine-optuna's tests import their helpers from optuna_helpers (this folder)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from optuna_helpers import INSTALL_HINT, StudyStorage, find_bin_dir, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a database on a private PostgreSQL server on 127.0.0.1."""
    pytest.importorskip("psycopg2", reason="pip install 'engine-optuna[postgres]'")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries (initdb) not found — install them: {INSTALL_HINT}")
    with postgres_server(bin_dir) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def study_storage(request: pytest.FixtureRequest, tmp_path: Path) -> StudyStorage:
    """Where a test's study lives: the default SQLite file of ``runs/study``, or a study of its
    own on the PostgreSQL server (``--storage``/``--study``)."""
    if request.param == "sqlite":
        return StudyStorage(f"sqlite:///{tmp_path / 'runs' / 'study' / 'study.db'}", "study", [])
    url = request.getfixturevalue("postgres_url")
    name = f"study-{uuid.uuid4().hex[:8]}"
    return StudyStorage(url, name, ["--storage", url, "--study", name])
