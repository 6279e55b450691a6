"""``engine plugins`` marks a component whose library is not installed with the command that
installs it (``registry.add(..., requires=..., install=...)``), without importing the library."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from engine.testing import cli

PLUGIN = """
    import engine

    @engine.hookimpl
    def engine_register_components(registry):
        registry.add("backend", "needy", "needy_backend:Backend", requires=("no_such_library_xyz", "present"),
                     install="pip install 'engine-needy[cpu]'")
        registry.add("backend", "plain", "needy_backend:Backend")
"""


def _write(tmp_path: Path) -> None:
    (tmp_path / "needy.py").write_text(textwrap.dedent(PLUGIN))
    # an installed library is found without being imported: importing this one would fail
    (tmp_path / "present.py").write_text("raise RuntimeError('present was imported')\n")


def test_a_missing_library_is_marked_with_its_install_command(tmp_path: Path) -> None:
    _write(tmp_path)
    result = cli("-p", "needy", "plugins", cwd=tmp_path)
    assert result.code == 0 and "Traceback" not in result.err, result
    missing = [line.strip() for line in result.out.splitlines() if line.strip().startswith("missing:")]
    assert missing == ["missing:  backend 'needy' (local module) needs the Python package "
                       "'no_such_library_xyz', which is not installed — pip install 'engine-needy[cpu]'"], result.out


def test_the_json_listing_holds_the_missing_libraries(tmp_path: Path) -> None:
    _write(tmp_path)
    result = cli("-p", "needy", "plugins", "--json", cwd=tmp_path)
    assert result.code == 0, result
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert len(rows["needy"]["missing"]) == 1 and "no_such_library_xyz" in rows["needy"]["missing"][0]
    assert all(not row["missing"] for name, row in rows.items() if name != "needy")
