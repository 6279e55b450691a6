"""What every command shares: the global options and the plugin manager they select."""

from __future__ import annotations

from collections.abc import Sequence

from engine._core.plugins import Plugins, load_plugins


class Session:
    """Plugins as selected by ``-p``; reloaded with a spec's ``[run] plugins`` when it has any."""

    def __init__(self, plugin_args: Sequence[str]):
        self.blocked = [p.removeprefix("no:") for p in plugin_args if p.startswith("no:")]
        self.modules = [p for p in plugin_args if not p.startswith("no:")]
        self._plugins: Plugins | None = None

    @property
    def plugins(self) -> Plugins:
        if self._plugins is None:
            self._plugins = load_plugins(blocked=self.blocked, extra_modules=self.modules)
        return self._plugins

    def plugins_for(self, local_modules: Sequence[str]) -> Plugins:
        """Plugins with a spec's local modules registered too."""
        if not local_modules:
            return self.plugins
        return load_plugins(blocked=self.blocked, extra_modules=[*self.modules, *local_modules])
