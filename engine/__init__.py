"""engine: a plugin-based training engine.

This module is the plugin API: everything a plugin may import from the core is listed in
``__all__`` and documented in docs/plugins.md ("The plugin API"). Loading and running specs
from a command or a tool is :mod:`engine.session`; testing a plugin is :mod:`engine.testing`.
Everything under ``engine._core`` is private and may change in any release.

A plugin implements hooks (see docs/reference/hooks.md) with the :data:`hookimpl` marker::

    import engine

    @engine.hookimpl
    def on_eval(run: engine.Run, metrics: dict[str, float]) -> None:
        print(run.step, metrics)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine._core import __version__
    from engine._core.backend import Backend
    from engine._core.checkpoint.manifest import MANIFEST, CheckpointInfo, is_plain_name
    from engine._core.checkpoint.parts import CurrentCheckpoint, StoredParts, current_checkpoint
    from engine._core.checkpoint.storage import CheckpointStorage, removing_new_folders
    from engine._core.cli.commands import CommandRegistry
    from engine._core.collective import Processes
    from engine._core.components import ComponentRegistry, resolve_import_path
    from engine._core.cv import fold_indices
    from engine._core.errors import (
        EXIT_FAILED,
        EXIT_OK,
        CheckpointError,
        EngineError,
        SpecError,
        TrainingError,
        UserCodeError,
    )
    from engine._core.hookspecs import hookimpl
    from engine._core.redact import REDACTED, redact, redact_text, redact_url
    from engine._core.requirements import check_libraries
    from engine._core.resources import parallelism_problems, pool_error, usable_cores, warn_parallelism
    from engine._core.resume_changes import NUMERICS, STRUCTURAL, by_key
    from engine._core.run import Run
    from engine._core.rundir import RunFiles, write_atomic
    from engine._core.schedule import Schedule
    from engine._core.spec.model import Configured, Spec, resolve_mode
    from engine._core.spec.types import (
        Duration,
        ImportPath,
        NonNegativeFloat,
        NonNegativeInt,
        PositiveFloat,
        PositiveInt,
    )
    from engine._core.status import RunStatus
    from engine._core.tracking import TrackerOptions

#: Where each public name lives: imported on first use (PEP 562), so that importing a core
#: module, the CLI or a plugin's entry point does not import the whole face.
_HOMES = {
    "__version__": "engine._core",
    "Backend": "engine._core.backend",
    "MANIFEST": "engine._core.checkpoint.manifest",
    "CheckpointInfo": "engine._core.checkpoint.manifest",
    "is_plain_name": "engine._core.checkpoint.manifest",
    "CurrentCheckpoint": "engine._core.checkpoint.parts",
    "StoredParts": "engine._core.checkpoint.parts",
    "current_checkpoint": "engine._core.checkpoint.parts",
    "CheckpointStorage": "engine._core.checkpoint.storage",
    "removing_new_folders": "engine._core.checkpoint.storage",
    "CommandRegistry": "engine._core.cli.commands",
    "Processes": "engine._core.collective",
    "ComponentRegistry": "engine._core.components",
    "resolve_import_path": "engine._core.components",
    "fold_indices": "engine._core.cv",
    "EXIT_FAILED": "engine._core.errors",
    "EXIT_OK": "engine._core.errors",
    "CheckpointError": "engine._core.errors",
    "EngineError": "engine._core.errors",
    "SpecError": "engine._core.errors",
    "TrainingError": "engine._core.errors",
    "UserCodeError": "engine._core.errors",
    "hookimpl": "engine._core.hookspecs",
    "REDACTED": "engine._core.redact",
    "redact": "engine._core.redact",
    "redact_text": "engine._core.redact",
    "redact_url": "engine._core.redact",
    "check_libraries": "engine._core.requirements",
    "parallelism_problems": "engine._core.resources",
    "pool_error": "engine._core.resources",
    "usable_cores": "engine._core.resources",
    "warn_parallelism": "engine._core.resources",
    "NUMERICS": "engine._core.resume_changes",
    "STRUCTURAL": "engine._core.resume_changes",
    "by_key": "engine._core.resume_changes",
    "Run": "engine._core.run",
    "RunFiles": "engine._core.rundir",
    "write_atomic": "engine._core.rundir",
    "Schedule": "engine._core.schedule",
    "Configured": "engine._core.spec.model",
    "Spec": "engine._core.spec.model",
    "resolve_mode": "engine._core.spec.model",
    "Duration": "engine._core.spec.types",
    "ImportPath": "engine._core.spec.types",
    "NonNegativeFloat": "engine._core.spec.types",
    "NonNegativeInt": "engine._core.spec.types",
    "PositiveFloat": "engine._core.spec.types",
    "PositiveInt": "engine._core.spec.types",
    "RunStatus": "engine._core.status",
    "TrackerOptions": "engine._core.tracking",
}

#: The plugin API, grouped as in docs/plugins.md. A name added or removed here is a change
#: of the API: tests/core/test_public_face.py fails until docs/plugins.md says so too.
__all__ = [  # noqa: RUF022 - grouped by what a plugin author is doing, not sorted
    "__version__",
    # every plugin: hooks, registries, the run and its spec
    "hookimpl", "ComponentRegistry", "CommandRegistry", "resolve_import_path",
    "Run", "RunStatus", "RunFiles", "Processes", "Spec", "Configured", "resolve_mode",
    # options classes: value types, resume rules, the tracker base
    "PositiveInt", "NonNegativeInt", "PositiveFloat", "NonNegativeFloat", "Duration", "ImportPath",
    "STRUCTURAL", "NUMERICS", "by_key", "TrackerOptions",
    # errors and exit statuses
    "EngineError", "SpecError", "UserCodeError", "CheckpointError", "TrainingError", "EXIT_OK", "EXIT_FAILED",
    # a backend or a scheduler
    "Backend", "Schedule", "fold_indices", "check_libraries",
    "parallelism_problems", "warn_parallelism", "pool_error", "usable_cores",
    # a checkpoint storage
    "CheckpointStorage", "CheckpointInfo", "MANIFEST", "is_plain_name", "removing_new_folders",
    # a participant that stores files itself on every process (sharded checkpoints)
    "current_checkpoint", "CurrentCheckpoint", "StoredParts",
    # files and secrets
    "write_atomic", "redact", "redact_text", "redact_url", "REDACTED",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
