"""Libraries a plugin needs but the environment lacks, named with the command that installs them.

A plugin's ``engine_check`` calls :func:`missing_library` for each library its selected
component imports, so ``engine check`` names it before anything is imported; a component
whose module fails to import for a missing library is reported the same way when it is built.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine._core.errors import EngineError

if TYPE_CHECKING:
    from engine._core.spec.model import Spec


def missing_library(module: str, *, needed_by: str, install: str) -> str | None:
    """One problem line when ``module`` cannot be imported here, else ``None``.

    ``needed_by`` names the component (``backend 'xgboost' (engine-xgboost)``), ``install``
    is the command that adds the library (``pip install 'engine-xgboost[cpu]'``).
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return f"{needed_by} needs the Python package {module!r}, which is not installed — {install}"


def missing_library_error(module: str, *, needed_by: str, install: str | None = None) -> EngineError:
    """The error for a component whose import failed because ``module`` is not installed."""
    return EngineError(f"{needed_by} needs the Python package {module!r}, which is not installed",
                       fix=install or f"pip install {module}")


def check_libraries(spec: Spec, options_type: type, modules: Sequence[str], *, install: str,
                    kind: str = "backend") -> list[str] | None:
    """For a plugin's ``engine_check``: problems when the spec selects the component whose
    options are ``options_type`` and one of ``modules`` is not installed."""
    selected = spec.component(kind)
    if selected is None or not isinstance(selected.options, options_type):
        return None
    needed_by = f"{kind} {selected.name!r} ({selected.component.distribution})"
    problems = [missing_library(module, needed_by=needed_by, install=install) for module in modules]
    return [f"{selected.path}: {problem}" for problem in problems if problem] or None
