"""Entry point of engine-tensorboard: registers the tracker by import path, so TensorBoard
is imported only when a spec uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import hookimpl
from engine_tensorboard.options import TensorBoardOptions

if TYPE_CHECKING:
    from engine import ComponentRegistry


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("tracker", "tensorboard", "engine_tensorboard.tracker:TensorBoardTracker",
                 options=TensorBoardOptions)
