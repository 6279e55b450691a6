"""Calling the user's code: import paths resolved with clear errors, exceptions marked as theirs."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

from engine import EngineError, UserCodeError, resolve_import_path

_PACKAGE = tuple({str(Path(__file__).parent) + os.sep, str(Path(__file__).resolve().parent) + os.sep})


def resolve(path: str, what: str) -> Any:
    """The object at ``module:attribute``; a missing module or attribute is a one-line error."""
    return resolve_import_path(path, what=what)


def call(function: Any, what: str, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; an exception becomes a :class:`UserCodeError` with its traceback."""
    try:
        return function(*args, **kwargs)
    except EngineError:
        raise
    except (Exception, SystemExit) as exc:  # sys.exit in a user's function is their failure too
        raise UserCodeError(f"{what} raised {type(exc).__name__}: {exc}",
                            user_traceback=user_traceback(exc)) from None


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` without the frames of this plugin (the engine's, not the user's)."""
    frames = traceback.extract_tb(exc.__traceback__)
    kept = [frame for frame in frames if not frame.filename.startswith(_PACKAGE)]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(kept),
             *traceback.format_exception_only(exc)]
    return "".join(lines)
