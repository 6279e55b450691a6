"""``engine plugins`` names the command that installs xgboost when it is missing."""

from __future__ import annotations

from pathlib import Path

from engine.testing.without import engine_without


def test_engine_plugins_marks_the_backend_with_the_command_that_installs_xgboost(tmp_path: Path) -> None:
    result = engine_without(["xgboost"], ["plugins"], cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result
    missing = [line for line in result.stdout.splitlines() if "missing:" in line]
    assert len(missing) == 1, result.stdout
    assert "backend 'xgboost'" in missing[0] and "pip install xgboost" in missing[0]
