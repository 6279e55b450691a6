"""Thread, worker and process counts a spec asks for, bounded by what this machine has.

More than the cores of the machine is a warning (the work runs, slower); more than
:data:`OVERSUBSCRIPTION` times the cores is refused before anything starts, since thousands
of threads exhaust the process table of the machine, not only of the run. Plugins call
:func:`parallelism_problems` from their ``engine_check`` and :func:`parallelism_warnings`
from their set-up; :func:`pool_error` turns a failure to start threads or processes into
one clear line.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from typing import Any

from engine._core.errors import EngineError

#: A count above this many times the cores is refused.
OVERSUBSCRIPTION = 4


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the platform says, else all)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(len(affinity(0)), 1)
        except OSError:
            pass
    return max(os.cpu_count() or 1, 1)


def hard_limit() -> int:
    """The largest count accepted: :data:`OVERSUBSCRIPTION` times the cores, at least 16."""
    return max(OVERSUBSCRIPTION * usable_cores(), 16)


def _counts(values: Mapping[str, Any]) -> dict[str, int]:
    """The entries that are counts (whole numbers; 0 and negatives mean a library default)."""
    return {key: value for key, value in values.items()
            if isinstance(value, int) and not isinstance(value, bool) and value > 0}


def parallelism_problems(values: Mapping[str, Any], *, where: str) -> list[str]:
    """One line per count above :func:`hard_limit`; ``values`` maps option names to counts."""
    cores, limit = usable_cores(), hard_limit()
    return [f"{where}.{key}: {key} = {value} is more than this machine can run ({cores} cores; at most "
            f"{limit} accepted) — use at most {cores}, or leave it out for the library's default"
            for key, value in _counts(values).items() if value > limit]


def parallelism_warnings(values: Mapping[str, Any], *, where: str) -> list[str]:
    """One line per count above the cores of this machine (but within the hard limit)."""
    cores, limit = usable_cores(), hard_limit()
    return [f"{where}.{key} = {value} is more than the {cores} cores of this machine; the run will be slower "
            "than with fewer" for key, value in _counts(values).items() if cores < value <= limit]


def pool_error(exc: BaseException, *, where: str, what: str) -> EngineError | None:
    """An :class:`EngineError` when ``exc`` says threads or processes could not be started, else None."""
    text = str(exc).lower()
    exhausted = (isinstance(exc, OSError) and exc.errno in (errno.EAGAIN, errno.ENOMEM)) or any(
        phrase in text for phrase in ("can't start new thread", "resource temporarily unavailable",
                                      "failed to create thread", "pthread_create"))
    if not exhausted:
        return None
    return EngineError(f"could not start {what}: {str(exc).strip().splitlines()[0] if text else type(exc).__name__}",
                       where=where, fix=f"lower {where} (this machine has {usable_cores()} cores), or raise the "
                       "process limit (ulimit -u)")


def warn_parallelism(run: Any, values: Mapping[str, Any], *, where: str) -> None:
    """Warn the run (stderr and its summary) of each count above the cores of this machine."""

    for message in parallelism_warnings(values, where=where):
        run.warn(message)
