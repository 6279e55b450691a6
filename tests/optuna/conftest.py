"""engine-optuna's tests import their helpers from optuna_helpers (this folder)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from optuna_helpers import INSTALL_HINT, find_bin_dir, postgres_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a database on a private PostgreSQL server on 127.0.0.1."""
    pytest.importorskip("psycopg2", reason="pip install 'engine-optuna[postgres]'")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries (initdb) not found — install them: {INSTALL_HINT}")
    with postgres_server(bin_dir) as url:
        yield url
