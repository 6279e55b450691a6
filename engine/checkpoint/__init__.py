"""Checkpoints: every participant's state, stored without pickle, committed by a manifest."""

from engine.checkpoint.manager import CheckpointManager
from engine.checkpoint.manifest import MANIFEST, CheckpointInfo
from engine.checkpoint.storage import CheckpointStorage, LocalStorage

__all__ = ["MANIFEST", "CheckpointInfo", "CheckpointManager", "CheckpointStorage", "LocalStorage"]
