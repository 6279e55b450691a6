"""Run the ``engine`` command as if some modules were not installed.

For a plugin's test that a missing library is one line naming it and its pip command::

    from engine.testing.without import engine_without

    def test_missing_library(tmp_path):
        result = engine_without(["xgboost"], ["check", "spec.toml"], cwd=tmp_path)
        assert result.returncode == 2 and "pip install" in result.stderr
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_BLOCKING_MAIN = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocked())
from engine._core.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def engine_without(modules: Sequence[str], args: Sequence[str], *, cwd: Path,
                   env: Mapping[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``engine ARGS`` in a subprocess in ``cwd`` where importing any of ``modules`` (top-level
    names) fails with ``ModuleNotFoundError``; ``env`` is added to this process's environment."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-c", _BLOCKING_MAIN, ",".join(modules), *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=timeout, check=False)
