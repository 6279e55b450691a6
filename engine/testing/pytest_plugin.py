"""pytest fixtures for plugin authors: ``engine_run`` and ``hook_recorder``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.testing import HookRecorder, RunResult, run_spec


@pytest.fixture
def hook_recorder() -> HookRecorder:
    """A fresh :class:`HookRecorder`; pass it in ``plugins=[...]``."""
    return HookRecorder()


@pytest.fixture
def engine_run(tmp_path: Path) -> Callable[..., RunResult]:
    """``engine_run(spec, **kwargs)``: :func:`engine.testing.run_spec` in a fresh temporary run dir."""
    counter = iter(range(1_000_000))

    def run(spec: Any, directory: Path | None = None, **kwargs: Any) -> RunResult:
        return run_spec(spec, directory or tmp_path / f"run-{next(counter)}", **kwargs)

    return run
