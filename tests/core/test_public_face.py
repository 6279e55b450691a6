"""The plugin API: every name in a face is documented in docs/plugins.md, and nothing else is."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

import engine
import engine.session
import engine.testing

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
FACES: dict[str, types.ModuleType] = {"engine": engine, "engine.session": engine.session,
                                      "engine.testing": engine.testing}


def documented(face: str) -> set[str]:
    """The names in the bullets of every ``### <face> …`` subsection of "The plugin API"."""
    text = DOC.read_text()
    api = text[text.index("## 6. The plugin API"):]
    names: set[str] = set()
    for section in re.split(r"^### ", api, flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        if heading.split(" ", 1)[0] != face:
            continue
        for bullet in re.findall(r"^- (.*?) — ", body, flags=re.M):
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", bullet))
    return names


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_public_name_is_documented_and_nothing_else(face: str) -> None:
    exported = set(FACES[face].__all__)
    listed = documented(face)
    assert not exported - listed, f"in {face}.__all__ but not in docs/plugins.md: {sorted(exported - listed)}"
    assert not listed - exported, f"in docs/plugins.md but not in {face}.__all__: {sorted(listed - exported)}"


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_public_class_and_function_has_a_docstring(face: str) -> None:
    module = FACES[face]
    missing = [name for name in module.__all__
               if (inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name)))
               and not (inspect.getdoc(getattr(module, name)) or "").strip()]
    assert not missing


def test_the_face_imports_without_any_plugin_or_heavy_library() -> None:
    import subprocess
    import sys

    code = ("import sys, engine, engine.session, engine.testing\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'torch', 'numpy', 'pandas', 'xgboost', 'lightgbm', 'sklearn', 'optuna'} or m.startswith('engine_')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_face_is_loaded_lazily_and_only_its_own_names() -> None:
    """``import engine`` (which every core module and plugin entry point does first) imports
    none of the core: each name's module loads when the name is first used."""
    import subprocess
    import sys

    code = "import sys, engine\nprint(sorted(m for m in sys.modules if m.startswith('engine._core.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert set(engine._HOMES) == set(engine.__all__)
