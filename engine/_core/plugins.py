"""The plugin manager: built-in plugins, entry points, local modules, and blame for failures."""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from typing import Any

import pluggy

from engine._core import hookcalls, hookspecs
from engine._core.components import ComponentRegistry
from engine._core.errors import EngineError, PluginError

ENTRY_POINT_GROUP = "engine"
AUTOLOAD_OFF_VARIABLE = "ENGINE_DISABLE_PLUGIN_AUTOLOAD"
TRACE_VARIABLE = "ENGINE_TRACE_HOOKS"

#: Built-in plugins, registered exactly like external ones. Those in ESSENTIAL cannot be blocked.
BUILTIN_PLUGINS: dict[str, str] = {
    "commands": "engine._core.cli.builtin_commands",
    "checkpointing": "engine._core.builtin.checkpointing",
    "local-storage": "engine._core.builtin.local_storage",
    "early-stop": "engine._core.builtin.early_stop",
    "metrics-log": "engine._core.builtin.metrics_log",
    "console": "engine._core.builtin.console",
    "testing-backend": "engine._core.builtin.testing_backend",
    "preflight": "engine._core.preflight",
}
ESSENTIAL = frozenset({"commands", "checkpointing", "local-storage"})


class Plugins:
    """The run's plugin manager, its component registry, and where each plugin came from."""

    def __init__(self, pm: pluggy.PluginManager, registry: ComponentRegistry,
                 origins: dict[str, str]):
        self.pm = pm
        self.hook = pm.hook
        self.registry = registry
        #: plugin name -> "distribution version" (or "local module", "built-in")
        self.origins = origins

    def origin(self, plugin_name: str) -> str:
        return self.origins.get(plugin_name, "registered at run time")

    def register(self, plugin: object, name: str, origin: str = "registered for the run") -> None:
        """Register a run-time plugin (a configured component) and validate its hooks."""
        _register(self.pm, plugin, name, origin, self.origins)
        _check_pending(self.pm, self.origins)

    def unregister(self, name: str) -> None:
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)

    def blame(self, exc: BaseException) -> str | None:
        """The name of the plugin whose hook implementation raised ``exc``, if any."""
        codes: dict[types.CodeType, str] = {}
        for caller in vars(self.pm.hook).values():
            if isinstance(caller, pluggy.HookCaller):
                for impl in caller.get_hookimpls():
                    code = getattr(impl.function, "__code__", None)
                    if code is not None:
                        codes[code] = impl.plugin_name
        tb = exc.__traceback__
        found = None
        while tb is not None:
            found = codes.get(tb.tb_frame.f_code, found)
            tb = tb.tb_next
        return found

    def call_scoped(self, hook_name: str, arguments: Callable[[str], Mapping[str, Any]]) -> list[Any]:
        """Call each plugin's implementation of ``hook_name`` with arguments made for it
        (see :func:`call_scoped`)."""
        return call_scoped(self.pm, hook_name, arguments, self.origins)

    def describe(self, commands: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Name, origin, implemented hooks, components and missing libraries (with the command that
        installs each) of every plugin, for ``engine plugins``; ``commands`` maps each CLI command
        to the plugin that added it."""
        added: dict[str, list[str]] = {}
        for command, adder in (commands or {}).items():
            added.setdefault(adder, []).append(command)
        rows = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda item: item[0]):
            if plugin is None:
                continue
            hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])
            components = [f"{c.kind}:{c.name}" for c in self.registry.all() if c.plugin == name]
            components += [f"section:{s.name}" for s in self.registry.sections.values() if s.plugin == name]
            components += [f"command:{c}" for c in added.get(name, [])]
            missing = [line for c in self.registry.all() if c.plugin == name for line in c.missing_libraries()]
            rows.append({"name": name, "origin": self.origin(name), "hooks": hooks,
                         "components": components, "missing": missing})
        return rows


def load_plugins(
    *,
    blocked: Iterable[str] = (),
    extra_modules: Sequence[str] = (),
    autoload: bool | None = None,
    extra_plugins: Sequence[tuple[str, object]] = (),
) -> Plugins:
    """Build a plugin manager: built-ins, entry points, then local modules.

    ``blocked`` holds names from ``-p no:NAME``; ``extra_modules`` holds module paths from
    ``-p MODULE`` and ``[run] plugins``; ``extra_plugins`` holds ready objects (tests).
    """
    blocked = set(blocked)
    if autoload is None:
        autoload = os.environ.get(AUTOLOAD_OFF_VARIABLE, "") in ("", "0")
    pm = hookcalls.EnginePluginManager("engine")
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_VARIABLE, "") not in ("", "0"):  # hook calls and results on stderr
        # (the loop calls its per-step and per-epoch hooks only where a plugin implements them)
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    origins: dict[str, str] = {}

    for name in blocked:
        pm.set_blocked(name)
    for name, module_path in BUILTIN_PLUGINS.items():
        if name in blocked and name not in ESSENTIAL:
            continue
        if name in ESSENTIAL:
            pm.unblock(name)
        _register(pm, importlib.import_module(module_path), name, "built-in", origins)

    if autoload:
        for ep in _entry_points():
            if ep.name in blocked or pm.has_plugin(ep.name):
                continue
            distribution = _distribution_of(ep)
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {ep.name!r} from {distribution} failed to import: "
                    f"{type(exc).__name__}: {exc}",
                    fix=f"reinstall or uninstall {distribution.split()[0]}, or run with -p no:{ep.name}",
                ) from None
            _register(pm, plugin, ep.name, distribution, origins)

    for module_path in extra_modules:
        if module_path in blocked or pm.has_plugin(module_path):
            continue
        try:
            module = importlib.import_module(module_path)
        except ModuleNotFoundError as exc:
            raise PluginError(
                f"plugin module {module_path!r} was not found ({exc})",
                where="[run] plugins / -p",
                fix="check the module path and that its folder is importable (the current directory is)",
            ) from None
        except Exception as exc:
            raise PluginError(
                f"plugin module {module_path!r} failed to import: {type(exc).__name__}: {exc}",
                where="[run] plugins / -p",
            ) from None
        _register(pm, module, module_path, "local module", origins)

    for name, plugin in extra_plugins:
        _register(pm, plugin, name, "local object", origins)

    _check_pending(pm, origins)
    registry = _collect_components(pm, origins)
    _check_reserved(registry, origins)
    return Plugins(pm, registry, origins)


def _check_reserved(registry: ComponentRegistry, origins: dict[str, str]) -> None:
    """A plugin may not take a name a run registers its own plugins under: a component kind
    (``backend``, ``tracker[0]``, ...) or ``run:...``; the run would fail to start."""
    for name, origin in origins.items():
        kind = name.split("[", 1)[0]
        if origin != "built-in" and (kind in registry.kinds or name.startswith("run:")):
            raise PluginError(
                f"plugin name {name!r} ({origin}) is reserved: a run registers its "
                f"{'own plugins' if name.startswith('run:') else kind + ' component'} under it",
                fix=f"rename the entry point in the [project.entry-points.engine] table, e.g. 'engine-{kind}'",
            )


def _check_pending(pm: pluggy.PluginManager, origins: dict[str, str]) -> None:
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = exc.plugin if isinstance(exc.plugin, str) else pm.get_name(exc.plugin)
        raise PluginError(
            f"plugin {name!r} ({origins.get(str(name), 'unknown origin')}) implements an "
            f"unknown hook: {_pending_names(pm)}",
            fix="check the spelling against `engine hooks` or engine/hookspecs.py",
        ) from None


def _register(pm: pluggy.PluginManager, plugin: object, name: str, origin: str,
              origins: dict[str, str]) -> None:
    """Register ``plugin``, refusing it in one line when a hook implementation is wrong."""
    origins[name] = origin
    if pm.is_blocked(name):
        return
    wrong = hookcalls.problems(plugin, _spec_argnames(pm))
    if wrong:
        raise PluginError(f"plugin {name!r} ({origin}): {'; '.join(wrong)}")
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:  # what pluggy checks beyond names and arguments
        raise PluginError(
            f"plugin {name!r} ({origin}) has an invalid hook implementation: "
            f"{' '.join(str(exc).split())}",
            fix="see the hook in `engine hooks`",
        ) from None


def _spec_argnames(pm: pluggy.PluginManager) -> dict[str, tuple[str, ...]]:
    return {name: caller.spec.argnames for name, caller in vars(pm.hook).items()
            if isinstance(caller, pluggy.HookCaller) and caller.spec is not None}


def _pending_names(pm: pluggy.PluginManager) -> str:
    names = [
        name for name, caller in vars(pm.hook).items()
        if isinstance(caller, pluggy.HookCaller) and not caller.has_spec() and caller.get_hookimpls()
    ]
    return ", ".join(sorted(names)) or "?"


def _collect_components(pm: pluggy.PluginManager, origins: dict[str, str]) -> ComponentRegistry:
    registry = ComponentRegistry()
    call_scoped(pm, "engine_register_components",
                lambda plugin: {"registry": registry.scoped(plugin, origins.get(plugin, "unknown"))},
                origins)
    return registry


def call_scoped(pm: pluggy.PluginManager, hook_name: str,
                arguments: Callable[[str], Mapping[str, Any]], origins: Mapping[str, str]) -> list[Any]:
    """Call ``hook_name`` once per implementing plugin, in pluggy's order, with the arguments
    ``arguments(plugin_name)`` makes for that plugin (a registry that records who added
    what); returns the results. Each call goes through pluggy, so hook wrappers wrap it and
    arguments are passed by name. A plugin that raises is named in a one-line error."""
    caller = getattr(pm.hook, hook_name)
    impls = caller.get_hookimpls()
    wrapping = {id(impl) for impl in impls if impl.hookwrapper or impl.wrapper}
    plain = [impl for impl in impls if id(impl) not in wrapping]
    results: list[Any] = []
    for impl in reversed(plain):
        others = [other.plugin for other in plain if other is not impl]
        try:
            results += pm.subset_hook_caller(hook_name, others)(**arguments(impl.plugin_name))
        except EngineError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r} ({origins.get(impl.plugin_name, 'unknown origin')}) "
                f"failed in {hook_name}: {type(exc).__name__}: {exc}",
                fix=f"fix or uninstall it, or run with -p no:{impl.plugin_name}",
            ) from None
    return results


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _distribution_of(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "an unknown distribution"
    return f"{dist.metadata['Name']} {dist.version}"
