"""Retrying transient storage errors (timeouts, 5xx, resets) with exponential backoff and jitter."""

from __future__ import annotations

import errno
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

log = logging.getLogger("engine.fsspec")
T = TypeVar("T")

_TRANSIENT_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED, errno.ETIMEDOUT,
                               errno.EPIPE, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN})
#: Exception class names of fsspec filesystems' libraries (botocore, aiohttp, gcsfs, azure)
#: that mean "try again"; matched by name so none of them has to be imported.
_TRANSIENT_NAMES = frozenset({
    "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
    "ResponseStreamingError", "IncompleteReadError", "IncompleteRead", "HTTPClientError",
    "ServerDisconnectedError", "ClientConnectorError", "ClientOSError", "ClientPayloadError",
    "ServerTimeoutError", "FSTimeoutError", "ServiceRequestError", "ServiceResponseError",
    "RetryError", "TransportError",
})
_TRANSIENT_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                              "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
                              "ServerBusy", "OperationTimedOut"})
#: Private jitter: the global ``random`` is training state that checkpoints restore.
_JITTER = random.Random()


def _status(exc: BaseException) -> int | None:
    for attribute in ("status", "status_code", "code"):
        value = getattr(exc, attribute, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def _one_is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(exc).__mro__):
        return True
    status = _status(exc)
    return (status is not None and (status >= 500 or status == 429)) or _error_code(exc) in _TRANSIENT_CODES


def is_transient(exc: BaseException) -> bool:
    """Whether trying again may succeed: the error or one it was raised from is a timeout,
    a dropped connection, throttling or a server error (5xx)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _one_is_transient(current):
            return True
        if isinstance(current, (FileNotFoundError, PermissionError)):
            return False
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@attrs.frozen
class Backoff:
    """``attempts`` tries; waits ``first``, ``2 * first``, ... (at most ``limit``), each jittered ±50%."""

    attempts: int = 5
    first: float = 0.5
    limit: float = 10.0

    def delay(self, retry: int) -> float:
        base = min(self.limit, self.first * 2 ** retry)
        return base * (0.5 + _JITTER.random())


class GaveUpError(Exception):
    """A storage operation still failed after every try; ``tries`` says how many were made."""

    def __init__(self, error: BaseException, tries: int):
        super().__init__(str(error))
        self.error = error
        self.tries = tries


def call(operation: Callable[[], T], backoff: Backoff, what: str,
         sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``operation``, retrying transient errors; raise :class:`GaveUpError` with the last error.

    ``FileNotFoundError`` passes through unchanged: a missing file is an answer, not a failure.
    """
    for attempt in range(1, backoff.attempts + 1):
        try:
            return operation()
        except FileNotFoundError:
            raise
        except Exception as exc:
            if attempt == backoff.attempts or not is_transient(exc):
                raise GaveUpError(exc, attempt) from exc
            wait = backoff.delay(attempt - 1)
            log.info("%s: %s: %s; try %d of %d in %.1fs", what, type(exc).__name__, exc, attempt + 1,
                     backoff.attempts, wait)
            sleep(wait)
    raise AssertionError("unreachable")
