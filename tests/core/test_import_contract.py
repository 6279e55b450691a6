"""tools/import_contract.py: each rule catches what it names, on a small tree built here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "import_contract.py"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _contract(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL)], cwd=root, capture_output=True, text=True, timeout=60)


CLEAN = {
    "engine/__init__.py": '__all__ = ["hookimpl", "Run"]\nfrom engine._core.a import hookimpl, Run\n',
    "engine/session.py": "from engine._core import a\n",
    "engine/testing/__init__.py": "from engine._core.a import Run\n",
    "engine/_core/__init__.py": "",
    "engine/_core/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from engine._core.b import B\n",
    "engine/_core/b.py": "from engine._core.a import Run\n",
    "plugins/engine-tab/engine_tab/__init__.py": '__all__ = ["Table"]\nfrom engine_tab.table import Table\n',
    "plugins/engine-tab/engine_tab/table.py": "import engine\nfrom engine import Run\nclass Table: ...\n",
    "plugins/engine-x/engine_x/__init__.py": "",
    "plugins/engine-x/engine_x/backend.py": (
        "from engine import hookimpl\nfrom engine.session import load\nfrom engine.testing import run_spec\n"
        "from engine_tab import Table\nfrom engine_x import backend\n"),
}


def test_a_tree_that_keeps_the_contract_passes(tmp_path: Path) -> None:
    _write(tmp_path, CLEAN)
    done = _contract(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_each_broken_rule_is_one_line_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    _write(tmp_path, {
        **CLEAN,
        "plugins/engine-x/engine_x/bad.py": (
            "from engine._core.loop import train\n"          # a private core module
            "from engine import Spec\n"                      # a name outside engine.__all__
            "from engine_tab.table import Table\n"           # another plugin's private module
            "from engine_tab import load_splits\n"),         # a name outside its face
        "examples/plugins/engine-y/engine_y/__init__.py": "import engine.cli\n",
        "engine/_core/c.py": "def f():\n    import engine_x\n",   # the core names a plugin
        "engine/_core/a.py": "def g():\n    from engine._core import b\n",  # b → a → b, at run time
    })
    done = _contract(tmp_path)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    expected = [
        "plugins/engine-x/engine_x/bad.py:1: imports engine._core.loop, a private core module",
        "plugins/engine-x/engine_x/bad.py:2: imports 'Spec' from engine, which is not in engine.__all__",
        "plugins/engine-x/engine_x/bad.py:3: imports engine_tab.table, a private module of another plugin",
        "plugins/engine-x/engine_x/bad.py:4: imports 'load_splits' from engine_tab, which is not in its __all__",
        "examples/plugins/engine-y/engine_y/__init__.py:1: imports engine.cli, a private core module",
        "engine/_core/c.py:2: the core imports the plugin engine_x",
        "import cycle among core modules: engine._core.a → engine._core.b → engine._core.a",
    ]
    for start in expected:
        assert sum(line.startswith(start) for line in lines) == 1, (start, lines)
    assert len(lines) == len(expected), lines


def test_the_repository_keeps_the_contract() -> None:
    done = _contract(ROOT)
    assert done.returncode == 0, done.stdout
