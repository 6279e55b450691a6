"""Fault tests: a real S3 server (moto) on 127.0.0.1 that the tests may freeze and stop."""

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
    name = f"faults-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(name)
    return name


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
