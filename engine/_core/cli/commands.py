"""Sub-commands of the ``engine`` CLI, registered through ``engine_add_commands``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from engine._core.errors import PluginError

if TYPE_CHECKING:
    from engine._core.cli.session import Session
    from engine._core.plugins import Plugins

Handler = Callable[[argparse.Namespace, "Session"], int]


@attrs.frozen
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Handler
    plugin: str


class CommandRegistry:
    """Commands by name; two plugins adding the same command is an error naming both."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self._plugin = "engine"

    def scoped(self, plugin: str) -> CommandRegistry:
        self._plugin = plugin
        return self

    def add(self, name: str, *, help: str, configure: Callable[[argparse.ArgumentParser], None],
            handler: Handler) -> None:
        existing = self.commands.get(name)
        if existing is not None:
            raise PluginError(f"command {name!r} is added by both {existing.plugin!r} and {self._plugin!r}",
                              fix=f"block one with -p no:{self._plugin}")
        self.commands[name] = Command(name, help, configure, handler, self._plugin)


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """SPEC and ``--set``: shared by every command that reads a spec."""
    parser.add_argument("spec", metavar="SPEC", help="the spec file (TOML)")
    parser.add_argument("--set", metavar="KEY.PATH=VALUE", action="append", default=[], dest="set",
                        help="override a value, read as TOML (repeatable), e.g. --set loop.max_steps=100")


def collect(plugins: Plugins) -> CommandRegistry:
    """Every plugin's commands, each attributed to the plugin that added it."""
    registry = CommandRegistry()
    plugins.call_scoped("engine_add_commands", lambda plugin: {"commands": registry.scoped(plugin)})
    return registry
