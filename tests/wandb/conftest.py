"""W&B in offline mode, talking to nothing, writing nowhere but the test's folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: W&B's variables a developer's shell may hold; each would change what a run does.
_OUTSIDE = ("WANDB_MODE", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_DIR", "WANDB_PROJECT",
            "WANDB_ENTITY", "WANDB_BASE_URL", "WANDB_SILENT", "WANDB_CONSOLE", "NETRC")


@pytest.fixture(autouse=True)
def _wandb_env(tmp_path: Path) -> Iterator[None]:
    """No credentials from outside (so ``mode = "auto"`` means offline), and W&B's per-user
    folders (cache, data, config) inside the test's folder; restored afterwards."""
    saved = dict(os.environ)
    for name in _OUTSIDE:
        os.environ.pop(name, None)
    home = tmp_path / "wandb-home"
    os.environ.update({"WANDB_CACHE_DIR": str(home / "cache"), "WANDB_DATA_DIR": str(home / "data"),
                       "WANDB_CONFIG_DIR": str(home / "config"), "NETRC": str(home / "netrc")})
    yield
    os.environ.clear()
    os.environ.update(saved)
