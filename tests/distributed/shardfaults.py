"""A test plugin: the storage ``flaky://<folder>``, a local directory where process 1 cannot store
its part of the checkpoint of step 8 (a full disk on one machine, say)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine import hookimpl
from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions

FAILING = "step-000000008"


class FlakyStorage(LocalStorage):
    def __init__(self, options: LocalStorageOptions):
        super().__init__(options)
        self.root = Path(options.url.removeprefix("flaky://"))

    def write_part(self, name: str, file: str, source: Path, *, owner: int) -> None:
        if name == FAILING and os.environ.get("RANK") == "1":
            raise OSError(28, "No space left on device (injected)")
        super().write_part(name, file, source, owner=owner)


@hookimpl
def engine_register_components(registry: Any) -> None:
    registry.add("storage", "flaky", FlakyStorage, options=LocalStorageOptions, schemes=("flaky",))
