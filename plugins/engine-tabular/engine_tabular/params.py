"""Parameter values a boosted-tree library can take, checked before the library sees them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from engine import EngineError, check_libraries, parallelism_problems

if TYPE_CHECKING:
    from engine import Spec

_SCALARS = (str, int, float, bool)


def check_values(params: Mapping[str, Any], *, library: str, numbers: Iterable[str] = (),
                 where: str = "backend.params") -> None:
    """Refuse a table (or a list holding one) anywhere, and a non-number where the engine reads a number.

    ``numbers`` are the keys the engine itself reads as numbers (learning rate, sampling fractions).
    """
    numeric = set(numbers)
    for key, value in params.items():
        if not _plain(value):
            raise EngineError(f"{library} parameter {key} = {value!r} is not a number, string, boolean or list",
                              where=f"{where}.{key}", fix=f"see the {library} parameter documentation")
        if key in numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise EngineError(f"{key} must be a number, got {value!r}", where=f"{where}.{key}",
                              fix=f"write it without quotes, e.g. {key} = 0.1")


def _plain(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    return False


#: Thread-count parameters of XGBoost, LightGBM (with its aliases), scikit-learn and CatBoost.
THREAD_PARAMS = ("nthread", "nthreads", "num_threads", "num_thread", "n_jobs", "thread_count")


def thread_counts(params: Mapping[str, Any]) -> dict[str, Any]:
    """The thread-count parameters among ``params``."""
    return {key: params[key] for key in THREAD_PARAMS if key in params}


def spec_problems(spec: Spec, options_type: type, *, modules: tuple[str, ...], install: str) -> list[str] | None:
    """For a tabular plugin's ``engine_check``: its library missing, or more threads than the machine can run."""
    backend = spec.component("backend")
    if backend is None or not isinstance(backend.options, options_type):
        return None
    problems = check_libraries(spec, options_type, modules, install=install) or []
    if not problems:
        problems += _broken_libraries(backend.path, backend.name, modules, install)
    params = getattr(backend.options, "params", {})
    problems += parallelism_problems(thread_counts(params), where=f"{backend.path}.params")
    return problems or None


def _broken_libraries(where: str, name: str, modules: tuple[str, ...], install: str) -> list[str]:
    """A library that is installed but fails to import (a missing native library such as
    libgomp, a half-removed install): one line with the error and the command that reinstalls it."""
    problems = []
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # ImportError, OSError from a native library, the library's own error
            text = " ".join(str(exc).split())
            text = text if len(text) <= 300 else text[:297] + "..."
            problems.append(f"{where}: backend {name!r} cannot import {module!r} ({type(exc).__name__}: {text}) "
                            f"— reinstall it: {install}")
    return problems
