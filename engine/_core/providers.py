"""Which distribution provides a component, a spec section, a command or a command-line option.

Each plugin distribution declares what it provides as entry points of the group
``engine.provides`` in its ``pyproject.toml``; the core reads them from the installed
metadata and never imports the plugin::

    [project.entry-points."engine.provides"]
    "backend.xgboost" = "engine_xgboost.backend"
    "section.tune" = "engine_optuna.plugin"
    "command.tune" = "engine_optuna.plugin"
    "option.run.nproc" = "engine_distributed.launch:main [torch]"   # the extra the hint installs

A distribution that is not installed has no metadata here. For those of this project the
declarations are gathered into ``plugin_index.json`` (regenerate it with
``python -m engine._core.providers plugins/*/pyproject.toml``); for any other name the hint
follows the naming convention ``engine-<name>``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path

import attrs

GROUP = "engine.provides"
PLUGIN_GROUP = "engine"
INDEX_FILE = "plugin_index.json"
_EXTRAS = re.compile(r"\[([^\]]*)\]\s*$")


@attrs.frozen
class Provider:
    """A distribution that provides something, and whether it is installed here."""

    distribution: str
    extras: tuple[str, ...] = ()
    installed: bool = False
    #: Its ``engine`` entry-point names (plugins), when installed.
    plugins: tuple[str, ...] = ()
    #: Whether the name comes from the ``engine-<name>`` convention rather than a declaration.
    guessed: bool = False

    @property
    def install(self) -> str:
        """The command that installs it: ``pip install engine-x`` or ``pip install 'engine-x[extra]'``."""
        if self.extras:
            return f"pip install '{self.distribution}[{','.join(self.extras)}]'"
        return f"pip install {self.distribution}"

    def hint(self) -> str:
        """Who provides it and what to do, for the fix part of an error line."""
        if self.guessed:
            return f"no known plugin provides it; by convention it would be {self.distribution}: {self.install}"
        if not self.installed:
            return f"it is provided by {self.distribution}: {self.install}"
        blocked = " ".join(f"-p no:{name}" for name in self.plugins) or "-p no:…"
        return (f"it is provided by {self.distribution}, which is installed but not loaded "
                f"(blocked with {blocked}, or ENGINE_DISABLE_PLUGIN_AUTOLOAD is set)")


def provider(key: str, *, convention: str | None = None) -> Provider | None:
    """Who provides ``key`` (``backend.xgboost``, ``section.tune``, ``option.run.nproc``).

    An installed distribution's declaration first, then this project's index of plugins; then,
    with ``convention`` (a component's name), the distribution ``engine-<convention>``.
    """
    for ep in metadata.entry_points(group=GROUP, name=key):
        dist = getattr(ep, "dist", None)
        if dist is None:
            continue
        plugins = tuple(sorted(e.name for e in dist.entry_points if e.group == PLUGIN_GROUP))
        return Provider(dist.metadata["Name"], tuple(ep.extras), installed=True, plugins=plugins)
    indexed = _index().get(key)
    if indexed is not None:
        return _parse_requirement(indexed)
    if convention:
        return Provider(f"engine-{convention}", guessed=True)
    return None


def known_names(prefix: str) -> list[str]:
    """Names under ``prefix`` (``"backend."``) that a known distribution provides, for "did you mean"."""
    keys = {ep.name for ep in metadata.entry_points(group=GROUP)} | set(_index())
    return sorted(key.removeprefix(prefix) for key in keys if key.startswith(prefix))


def _parse_requirement(text: str) -> Provider:
    name, _, extras = text.partition("[")
    return Provider(name, tuple(e.strip() for e in extras.rstrip("]").split(",") if e.strip()))


def _index() -> dict[str, str]:
    try:
        text = resources.files("engine._core").joinpath(INDEX_FILE).read_text()
    except OSError:  # a build that left the index out: only installed metadata and the convention
        return {}
    index: dict[str, str] = json.loads(text)
    return index


def index_from(pyprojects: Iterable[Path]) -> dict[str, str]:
    """``key -> "distribution[extras]"`` from the ``engine.provides`` tables of these pyproject files."""
    import tomllib

    index: dict[str, str] = {}
    for path in pyprojects:
        project = tomllib.loads(path.read_text()).get("project", {})
        for key, value in project.get("entry-points", {}).get(GROUP, {}).items():
            extras = _EXTRAS.search(value)
            index[key] = project["name"] + (f"[{extras.group(1).replace(' ', '')}]" if extras else "")
    return dict(sorted(index.items()))


def dump_index(index: dict[str, str]) -> str:
    return json.dumps(index, indent=1) + "\n"


if __name__ == "__main__":  # python -m engine._core.providers plugins/*/pyproject.toml
    target = Path(__file__).with_name(INDEX_FILE)
    target.write_text(dump_index(index_from(Path(arg) for arg in sys.argv[1:])))
    print(f"wrote {target}")
