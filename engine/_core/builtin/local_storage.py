"""Built-in storage ``local``: checkpoints in a local directory, committed by atomic renames."""

from __future__ import annotations

from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions
from engine._core.components import ComponentRegistry
from engine._core.hookspecs import hookimpl


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("storage", "local", LocalStorage, options=LocalStorageOptions, schemes=("file",))
