"""A library's complaint about a parameter, as one line naming the spec key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine import EngineError

_LOG_PREFIX = re.compile(r"^\[[\d:]+\]\s+\S+:\d+:\s*")  # xgboost's "[12:00:00] src/x.cc:12: "


def library_message(exc: BaseException) -> str:
    """The useful part of a library exception's text, on one line (no native stack trace)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = _LOG_PREFIX.sub("", lines[0]) if lines else type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def param_error(exc: BaseException, params: Mapping[str, Any], *, where: str = "backend.params",
                library: str) -> EngineError:
    """An :class:`EngineError` at ``backend.params.<key>`` for the first key the message names."""
    message = library_message(exc)
    key = _named(message, {k: k for k in params}) or _named(message, {k: str(v) for k, v in params.items()})
    place = f"{where}.{key}" if key else where
    what = f"{key} = {params[key]!r}" if key else "the parameters"
    return EngineError(f"{library} rejected {what}: {message}", where=place,
                       fix=f"see the {library} parameter documentation")


def _named(message: str, needles: Mapping[str, str]) -> str | None:
    """The key whose needle (its name, or else its value) occurs in the message as a word."""
    for key, needle in sorted(needles.items(), key=lambda item: -len(item[1])):
        if needle and re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w])", message):
            return key
    return None
