"""Fault tests: a real S3 server (moto) on 127.0.0.1 that the tests may freeze and stop."""

from __future__ import annotations

import pytest

pytest.importorskip("engine_fsspec")
pytest.importorskip("moto.server")

from engine_fsspec.pytest_fixtures import bucket, dummy_credentials, s3  # noqa: F401 - fixtures
