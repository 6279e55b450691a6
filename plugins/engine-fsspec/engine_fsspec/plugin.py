"""Entry point of engine-fsspec: registers the ``fsspec`` storage by import path, so fsspec
and its filesystems (s3fs, gcsfs, adlfs) are imported only when a spec stores checkpoints
with it, and checks the storage URL when a spec is loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import hookimpl
from engine_fsspec.options import FsspecStorageOptions

if TYPE_CHECKING:
    from engine.components import ComponentRegistry
    from engine.spec.model import Spec

FACTORY = "engine_fsspec.storage:FsspecStorage"


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("storage", "fsspec", FACTORY, options=FsspecStorageOptions, schemes=("*",))


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """A URL fsspec cannot serve is the spec's fault: report it at ``engine check`` too."""
    configured = spec.component("storage")
    if configured is None or configured.component.factory != FACTORY:
        return None
    from engine_fsspec.urls import url_problem

    problem = url_problem(configured.options.url)
    return [f"checkpoint.storage: {problem}"] if problem else None
