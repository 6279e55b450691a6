"""A real S3-compatible server (moto) on 127.0.0.1 for the whole session, a fresh bucket per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("engine_fsspec")
pytest.importorskip("moto.server")

from engine_fsspec.testing import CREDENTIALS, S3Server


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    server = S3Server().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A new, empty bucket's name."""
    name = f"ckpt-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(name)
    return name


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy AWS credentials for in-process runs and the engine subprocesses (moto accepts any)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
