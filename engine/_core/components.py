"""Named components: what a spec section selects with ``use = "name"``."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Any

import attrs

from engine._core.errors import EngineError, PluginError, SpecError, UserCodeError
from engine._core.providers import known_names, provider

#: Kinds the core knows; a plugin may add more with ``registry.add_kind``.
#: ``True`` means the spec holds a list of them (``[[tracker]]``).
CORE_KINDS: dict[str, bool] = {
    "backend": False,
    "strategy": False,
    "precision": False,
    "scheduler": False,
    "tracker": True,
    "storage": False,
}

@attrs.define
class EmptyOptions:
    """Options of a component that takes none."""


@attrs.frozen
class Component:
    """A named, configurable piece provided by a plugin."""

    kind: str
    name: str
    factory: Callable[[Any], Any] | str
    options: type
    description: str
    plugin: str
    distribution: str
    #: URL schemes a storage component serves ("file", "s3", ...; "*" for any).
    schemes: tuple[str, ...] = ()
    #: Top-level modules the component imports that its distribution may not install
    #: (an optional extra), and the command that installs them.
    requires: tuple[str, ...] = ()
    install: str = ""

    def missing_libraries(self) -> list[str]:
        """One line per module of ``requires`` that is not installed here (none is imported)."""
        from engine._core.requirements import missing_library

        needed_by = f"{self.kind} {self.name!r} ({self.distribution})"
        install = self.install or f"pip install {' '.join(self.requires)}"
        found = (missing_library(module, needed_by=needed_by, install=install) for module in self.requires)
        return [line for line in found if line]

    def build(self, options: Any) -> Any:
        """Import the factory if it is a path, and call it with the options.

        A library the plugin imports but the environment lacks is named with its install
        command, never shown as a traceback of the user's code.
        """
        if isinstance(self.factory, str):
            _import_plugin_module(self)
        factory = resolve_import_path(self.factory, what=f"{self.kind} {self.name!r}") \
            if isinstance(self.factory, str) else self.factory
        return factory(options)


@attrs.frozen
class Section:
    """A top-level spec section declared by a plugin, such as ``[tune]``."""

    name: str
    options: type
    plugin: str
    distribution: str
    description: str = ""


class ComponentRegistry:
    """Every component and plugin section, by kind and name."""

    def __init__(self) -> None:
        self.kinds: dict[str, bool] = dict(CORE_KINDS)
        self._components: dict[str, dict[str, Component]] = {kind: {} for kind in self.kinds}
        self.sections: dict[str, Section] = {}
        self._plugin = "engine"
        self._distribution = "engine"

    def scoped(self, plugin: str, distribution: str) -> ComponentRegistry:
        """Attribute the following registrations to ``plugin`` from ``distribution``."""
        self._plugin, self._distribution = plugin, distribution
        return self

    def add_kind(self, kind: str, *, many: bool = False) -> None:
        """Declare a new component kind (a section ``[kind]``, or ``[[kind]]`` if ``many``)."""
        self.kinds.setdefault(kind, many)
        self._components.setdefault(kind, {})

    def add(
        self,
        kind: str,
        name: str,
        factory: Callable[[Any], Any] | str,
        *,
        options: type = EmptyOptions,
        description: str = "",
        schemes: tuple[str, ...] = (),
        requires: tuple[str, ...] = (),
        install: str = "",
    ) -> None:
        """Register component ``name`` of ``kind``; see ``engine_register_components``.

        ``requires`` names modules the component imports that its distribution does not always
        install (an extra), ``install`` the command that adds them: ``engine plugins`` marks the
        component when one is missing, without importing it."""
        if kind not in self._components:
            raise PluginError(
                f"unknown component kind {kind!r}",
                where=f"plugin {self._plugin!r} ({self._distribution})",
                fix=f"use one of {', '.join(sorted(self._components))} or call registry.add_kind first",
            )
        if not attrs.has(options):
            raise PluginError(
                f"options of {kind} {name!r} must be an attrs class, got {options!r}",
                where=f"plugin {self._plugin!r} ({self._distribution})",
            )
        existing = self._components[kind].get(name)
        if existing is not None:
            raise PluginError(
                f"{kind} {name!r} is registered by both {existing.distribution} "
                f"(plugin {existing.plugin!r}) and {self._distribution} (plugin {self._plugin!r})",
                fix=f"uninstall one, or block one with -p no:{self._plugin}",
            )
        self._components[kind][name] = Component(
            kind, name, factory, options, description or _first_line(options.__doc__),
            self._plugin, self._distribution, tuple(schemes), tuple(requires), install,
        )

    def add_section(self, name: str, options: type, *, description: str = "") -> None:
        """Declare a top-level spec section ``[name]`` structured into ``options``."""
        existing = self.sections.get(name)
        if existing is not None:
            raise PluginError(
                f"spec section [{name}] is declared by both {existing.distribution} "
                f"and {self._distribution}",
                fix=f"uninstall one, or block one with -p no:{self._plugin}",
            )
        self.sections[name] = Section(name, options, self._plugin, self._distribution, description)

    def of_kind(self, kind: str) -> dict[str, Component]:
        return dict(self._components.get(kind, {}))

    def all(self) -> list[Component]:
        return [c for kind in self._components.values() for c in kind.values()]

    def get(self, kind: str, name: str, *, where: str) -> Component:
        """The component, or a one-line error listing what is installed."""
        found = self._components.get(kind, {}).get(name)
        if found is not None:
            return found
        installed = sorted(self._components.get(kind, {}))
        message = f"unknown {kind} {name!r}"
        candidates = sorted({*installed, *known_names(f"{kind}.")})
        hint = difflib.get_close_matches(name, candidates, n=1)
        fixes = []
        if hint and hint[0] != name:
            fixes.append(f"did you mean {hint[0]!r}?")
        # no install command guessed for a likely typo of a known name (never "pip install engine-xgbost")
        typo = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
        provided = provider(f"{kind}.{name}", convention=None if typo else name)
        if provided is not None:
            fixes.append(provided.hint())
        fixes.append(f"installed: {', '.join(installed) if installed else 'none'}")
        return _raise(message, where, "; ".join(fixes))

    def for_url(self, url: str, *, where: str) -> Component:
        """The storage component serving ``url``'s scheme (exact match before ``*``)."""
        scheme = url.split("://", 1)[0] if "://" in url else "file"
        storages = self._components["storage"].values()
        for wanted in (scheme, "*"):
            for component in storages:
                if wanted in component.schemes:
                    return component
        provided = provider("storage.fsspec", convention="fsspec")
        assert provided is not None
        fix = provided.hint() if provided.installed else \
            f"{provided.install} (and the fsspec filesystem for {scheme})"
        return _raise(f"no storage plugin serves {scheme}:// URLs", where, f"{fix}, or use a local path")


def _import_plugin_module(component: Component) -> None:
    """Import a component's module; a missing third-party library is a one-line error."""
    from engine._core.requirements import missing_library_error

    module_name = str(component.factory).partition(":")[0]
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        own = module_name.split(".")[0]
        if exc.name and exc.name.split(".")[0] != own:
            needed_by = f"{component.kind} {component.name!r} ({component.distribution})"
            raise missing_library_error(exc.name.split(".")[0], needed_by=needed_by) from None
    except Exception:  # reported with its traceback by resolve_import_path
        pass


def _raise(message: str, where: str, fix: str) -> Any:
    raise SpecError([f"{where}: {message} — {fix}"])


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""


def resolve_import_path(path: str, *, what: str) -> Any:
    """Import ``"package.module:attribute"`` (``attribute`` may be dotted).

    A missing module or attribute is a one-line error naming both; an exception raised
    while importing the user's module keeps the user's traceback.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise _import_error(path, what, "write it as 'package.module:attribute'")
    try:
        target: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise _import_error(
                path, what, f"module {exc.name!r} was not found (is it installed, or on the path?)"
            ) from None
        raise _user_error(path, what, exc) from None
    except (Exception, SystemExit) as exc:  # a module that calls sys.exit on import is the user's failure too
        raise _user_error(path, what, exc) from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _import_error(
                path, what, f"module {module_name!r} has no attribute {part!r}"
            ) from None
    return target


def _user_error(path: str, what: str, exc: BaseException) -> UserCodeError:
    import traceback

    shown = traceback.TracebackException.from_exception(exc)
    shown.stack = traceback.StackSummary.from_list(  # the user's frames, not the import machinery's
        [frame for frame in shown.stack if frame.filename != __file__
         and not frame.filename.startswith("<frozen importlib") and "/importlib/" not in frame.filename])
    return UserCodeError(
        f"importing {path!r} for {what} raised {type(exc).__name__}: {exc}",
        user_traceback="".join(shown.format()),
    )


def _import_error(path: str, what: str, fix: str) -> EngineError:
    return EngineError(f"cannot import {path!r} for {what}", fix=fix)
