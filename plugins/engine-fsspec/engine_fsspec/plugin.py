"""Entry point of engine-fsspec: registers the ``fsspec`` storage by import path, so fsspec
and its filesystems (s3fs, gcsfs, adlfs) are imported only when a spec stores checkpoints
with it, and checks the storage URL when a spec is loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import hookimpl
from engine_fsspec.options import FsspecStorageOptions

if TYPE_CHECKING:
    from engine import ComponentRegistry, Run, Spec

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


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]] | None:
    """The run directory's copy at the storage URL, when ``mirror_run_dir`` asks for it (main process)."""
    storage = run.checkpoints.storage if run.checkpoints is not None else None
    if not run.is_main_process or not getattr(getattr(storage, "options", None), "mirror_run_dir", False):
        return None
    from engine_fsspec.run_dir import RunDirMirror

    return [("run:fsspec-run-dir", RunDirMirror(storage, run.dir))]  # type: ignore[arg-type]
