"""docs/reference/spec.md covers every plugin: each component and section a plugin of this
repository declares (``[project.entry-points."engine.provides"]``), and each component the
installed plugins register, with every option key in its table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import attrs
import pytest

from engine._core.plugins import load_plugins

ROOT = Path(__file__).resolve().parents[2]
SPEC_MD = (ROOT / "docs" / "reference" / "spec.md").read_text()
KINDS_WITHOUT_HEADINGS = ("command", "option")


def _chapters(level: str) -> dict[str, str]:
    """Heading -> its text up to the next heading of the same or a higher level."""
    pattern = rf"^{level} (.+)$"
    parts = re.split(pattern, SPEC_MD, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _kind_heading(kind: str, many: bool) -> str:
    return "`[checkpoint] storage` components" if kind == "storage" else \
        f"`[[{kind}]]` components" if many else f"`[{kind}]` components"


def _declared() -> list[tuple[str, str, str]]:
    """(plugin folder, kind, name) for every entry of every plugin's ``engine.provides`` table."""
    found = []
    for pyproject in sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/plugins/*/pyproject.toml")]):
        provides = tomllib.loads(pyproject.read_text())["project"].get("entry-points", {}).get("engine.provides", {})
        found += [(pyproject.parent.name, *key.split(".", 1)) for key in provides]
    return found


@pytest.mark.parametrize(("plugin", "kind", "name"), [d for d in _declared() if d[1] not in KINDS_WITHOUT_HEADINGS],
                         ids=lambda value: str(value))
def test_every_declared_component_and_section_is_in_the_reference(plugin: str, kind: str, name: str) -> None:
    if kind == "section":
        assert re.search(rf"^## `\[{re.escape(name)}\]` \({plugin} ", SPEC_MD, re.MULTILINE), (plugin, name)
        return
    chapters = _chapters("##")
    kind_chapter = next((text for heading, text in chapters.items()
                         if heading in (_kind_heading(kind, True), _kind_heading(kind, False))), "")
    assert f'### `use = "{name}"` ({plugin} ' in kind_chapter, f"{kind} {name!r} of {plugin} is not in spec.md"


def test_every_installed_component_is_in_the_reference_with_its_option_keys() -> None:
    registry = load_plugins().registry
    components = _chapters("###")
    for component in registry.all():
        heading = f'`use = "{component.name}"` ({component.distribution})'
        assert heading in components, f"{component.kind} {component.name!r} is not in spec.md"
        table = components[heading].split("\n## ", 1)[0]
        for field in attrs.fields(component.options):
            assert f"| `{field.name}` |" in table, f"{component.kind} {component.name!r}: {field.name}"
    for section in registry.sections.values():
        assert f"## `[{section.name}]` ({section.distribution})" in SPEC_MD, section.name
