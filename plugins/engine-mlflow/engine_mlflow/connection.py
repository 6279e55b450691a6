"""Bounded waits on the tracking server, and one check of the store when the run starts.

MLflow's HTTP client waits 120 s per request and retries 7 times with exponential backoff by
default: minutes before an unreachable server gives up. The tracker lowers those defaults
for its process (a value the user set in the environment is kept) and asks the store for
one experiment before training, so a server that is down or a store MLflow refuses is
found in seconds, once.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from mlflow.tracking import MlflowClient

#: MLflow's variables and the tracker's defaults for them (seconds, retries).
BOUNDS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
}


#: The variables :func:`bound_waits` set (the user's own are never changed).
_SET_HERE: set[str] = set()


def bound_waits() -> None:
    """Set the tracker's bounds where the environment does not set MLflow's variables."""
    for name, value in BOUNDS.items():
        if name not in os.environ:
            os.environ[name] = value
            _SET_HERE.add(name)


def check(uri: str) -> None:
    """One request to the store at ``uri``, not retried unless the environment asks for
    retries; raises ``ConnectionError`` naming the store and the cause."""
    try:
        with _unless_set(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0"):
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    except Exception as exc:
        raise ConnectionError(f"MLflow tracking store {uri} is not usable: {_cause(exc)}") from None


@contextlib.contextmanager
def _unless_set(**values: str) -> Iterator[None]:
    """Set the variables the user has not set for the block; restore them after it."""
    user = {name: os.environ.get(name) for name in values}
    os.environ.update({name: value for name, value in values.items() if user[name] is None or name in _SET_HERE})
    try:
        yield
    finally:
        for name, value in user.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cause(exc: BaseException) -> str:
    """The last line of what went wrong, without urllib3's nesting ("Max retries exceeded ...")."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    refused = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if refused:
        return refused.group(1).strip()
    if "Read timed out" in text or "ConnectTimeout" in text:
        return "no answer within the timeout (MLFLOW_HTTP_REQUEST_TIMEOUT)"
    return text[:300]
