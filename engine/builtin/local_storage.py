"""Built-in storage ``local``: checkpoints in a local directory, committed by atomic renames."""

from __future__ import annotations

from engine import hookimpl
from engine.checkpoint.storage import LocalStorage, LocalStorageOptions
from engine.components import ComponentRegistry


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("storage", "local", LocalStorage, options=LocalStorageOptions, schemes=("file",))
