"""pytest fixtures for tests against a real S3-compatible server (moto) on 127.0.0.1.

Import them into a ``conftest.py``: ``from engine_fsspec.pytest_fixtures import bucket, dummy_credentials, s3``.
Needs ``moto[server]`` and ``s3fs``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from engine_fsspec.testing import CREDENTIALS, S3Server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """One moto server for the whole session, stopped at its end."""
    server = S3Server().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A new, empty bucket's name."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(name)
    return name


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy AWS credentials for in-process runs and the engine subprocesses (moto accepts any)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
