"""Entry point of engine-wandb: registers the tracker by import path, so wandb is imported
only when a spec uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import hookimpl
from engine_wandb.options import WandbOptions

if TYPE_CHECKING:
    from engine import ComponentRegistry


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("tracker", "wandb", "engine_wandb.tracker:WandbTracker", options=WandbOptions)
