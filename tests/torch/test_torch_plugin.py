"""The plugin as installed: registered by entry point, light to import."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("command", [["plugins"], ["--help"]])
def test_the_cli_does_not_import_torch(command: list[str]) -> None:
    code = ("import contextlib, sys\nfrom engine._core.cli.main import main\n"
            f"with contextlib.suppress(SystemExit):\n    main({command!r})\n"
            "print('TORCH-IMPORTED' if 'torch' in sys.modules else 'TORCH-NOT-IMPORTED')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TORCH-NOT-IMPORTED" in result.stdout
    if command == ["plugins"]:
        assert "backend:torch" in result.stdout
