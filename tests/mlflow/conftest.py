"""A real MLflow tracking server on 127.0.0.1 for the session, and an environment that talks
to nothing else (no telemetry, no MLFLOW_TRACKING_URI from the caller).

The server takes tens of seconds to start on a busy machine (imports, database migrations),
so it is launched as soon as collection shows a test needs it, and the first such test
waits for it while the others run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mltools import free_port

QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
_STARTUP_SECONDS = 180


class Server:
    """``mlflow server`` with a sqlite store and served artifacts, in a temporary folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="engine-mlflow-server-"))
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = self.root / "server.log"
        command = [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--serve-artifacts", "--artifacts-destination", str(self.root / "artifacts"), "--workers", "1",
        ]
        env = {**os.environ, **QUIET_ENV, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        env.pop("MLFLOW_TRACKING_URI", None)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.ready = False

    def wait(self) -> str:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while not self.ready:
            if self.process.poll() is not None:
                pytest.fail(f"mlflow server exited with {self.process.returncode}:\n{self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    self.ready = response.status == 200
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer within {_STARTUP_SECONDS} s:\n{self._tail()}")
            time.sleep(0.25)
        return self.url

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _tail(self) -> str:
        return self.log.read_text()[-3000:]


_server: Server | None = None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    global _server
    if _server is None and any("mlflow_server" in getattr(item, "fixturenames", ()) for item in items):
        _server = Server()


def pytest_sessionfinish() -> None:
    if _server is not None:
        _server.stop()


@pytest.fixture(scope="session")
def mlflow_server() -> str:
    """``http://127.0.0.1:<port>`` of the session's tracking server."""
    assert _server is not None
    return _server.wait()


@pytest.fixture(scope="session")
def mlflow_server_root(mlflow_server: str) -> Path:
    """The folder holding the session server's database and artifacts."""
    assert _server is not None
    return _server.root


@pytest.fixture(autouse=True)
def _mlflow_env() -> Iterator[None]:
    """No telemetry, no tracking URI or file-store switch from outside; restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(QUIET_ENV)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ALLOW_FILE_STORE"):
        os.environ.pop(name, None)
    yield
    os.environ.clear()
    os.environ.update(saved)
