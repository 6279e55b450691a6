"""The calling convention: which attributes of a plugin are hook implementations, and how
they are called.

One rule for every plugin (a module, a component object, a tracker): each function or method
named ``on_*`` or ``engine_*`` implements the hook of that name, marked with
``@engine.hookimpl`` or not (the way pytest treats ``pytest_*`` names); a marked function
may also carry another name with ``specname``. Pluggy calls an implementation with the
hook's arguments by name, only those it asks for, so ``def on_resume(self, run)`` is valid.
A name that is no hook, or an argument the hook does not pass, is refused when the plugin
is registered, in one line naming the plugin.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import types
import weakref
from collections.abc import Callable, Mapping
from typing import Any, cast

import pluggy

from engine._core import hookspecs
from engine._core.errors import PluginError

PREFIXES = ("on_", "engine_")
_MARKER = "engine_impl"  # the attribute pluggy's HookimplMarker("engine") sets


def marked_opts(plugin: object, name: str) -> pluggy.HookimplOpts | None:
    """The ``@hookimpl`` options of ``plugin.name``; ``{}`` for an unmarked ``on_*`` or
    ``engine_*`` function; ``None`` when the attribute is no hook implementation.

    For an instance, an attribute it does not hold itself is its class's: what that gives is
    kept per class (:func:`_class_memo`), so the objects a run registers anew for each trial
    or fold cost a look-up per attribute, not a static look-up through the class's ``__mro__``.
    """
    if name.startswith("__"):  # most of what dir() lists: never a hook
        return None
    memo = _class_memo(plugin, name)
    if memo is None:
        return _marked_opts(plugin, name)
    if name not in memo:
        memo[name] = _marked_opts(plugin, name)
    return cast("pluggy.HookimplOpts | None", memo[name])


def _class_memo(plugin: object, name: str) -> dict[Any, Any] | None:
    """The memo of ``type(plugin)`` for attributes ``plugin`` does not hold itself; ``None``
    for a class, a module, or an attribute the instance holds. A class changed after its first
    instance was registered keeps what the memo read then: hooks are code, not state."""
    if isinstance(plugin, (type, types.ModuleType)) or name in getattr(plugin, "__dict__", ()):
        return None
    memo = _MEMOS.get(type(plugin))
    if memo is None:
        memo = _MEMOS[type(plugin)] = {}
    return memo


#: Per class, attribute name -> what :func:`_marked_opts` gave for an instance that does not
#: hold the attribute itself, and ``(name,)`` -> what :func:`argnames` gave.
_MEMOS: weakref.WeakKeyDictionary[type, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _marked_opts(plugin: object, name: str) -> pluggy.HookimplOpts | None:
    own = getattr(plugin, "__dict__", None)
    if (isinstance(own, dict) and not isinstance(plugin, (type, types.ModuleType))
            and not isinstance(own.get(name), (types.FunctionType, types.MethodType))
            and name in own):  # an instance's own value (a class's data descriptor would win: no function either)
        return None
    static = _function(plugin, name)
    if static is None:
        return None
    for holder in (static, getattr(static, "__func__", None)):
        opts = getattr(holder, _MARKER, None)
        if isinstance(opts, dict):
            return cast(pluggy.HookimplOpts, opts)
    return cast(pluggy.HookimplOpts, {}) if name.startswith(PREFIXES) else None


def _function(plugin: object, name: str) -> object | None:
    """``plugin.name`` looked up without running properties, if it is a function or method
    (what pluggy can call); descriptors, callable objects and builtins are no hooks."""
    if name.startswith("__"):
        return None
    try:
        static = inspect.getattr_static(plugin, name)
    except AttributeError:
        return None
    own = not (inspect.isclass(plugin) or inspect.ismodule(plugin)) and name in getattr(plugin, "__dict__", {})
    kinds: tuple[type, ...] = (types.FunctionType, types.MethodType)
    if not own:
        kinds += (staticmethod, classmethod)
    return static if isinstance(static, kinds) else None


class EnginePluginManager(pluggy.PluginManager):
    """pluggy's manager with the engine's rule for finding hook implementations."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        return marked_opts(plugin, name)


@functools.cache
def spec_argnames() -> Mapping[str, tuple[str, ...]]:
    """Every hook's name and the arguments it passes, read by pluggy from the hookspecs."""
    pm = EnginePluginManager("engine")
    pm.add_hookspecs(hookspecs)
    return types.MappingProxyType({
        name: caller.spec.argnames for name, caller in sorted(vars(pm.hook).items())
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None
    })


def event_argnames() -> dict[str, tuple[str, ...]]:
    """The events (``on_*`` hooks) in the order they are documented, with their arguments."""
    specs = spec_argnames()
    return {name: specs[name] for name in hookspecs.event_names() if name in specs}


def implementations(plugin: object) -> list[tuple[str, str, pluggy.HookimplOpts]]:
    """``(attribute, hook, options)`` for every hook implementation ``plugin`` has."""
    found = []
    for name in dir(plugin):
        opts = marked_opts(plugin, name)
        if opts is not None:
            found.append((name, opts.get("specname") or name, opts))
    return found


def argnames(plugin: object, attribute: str) -> tuple[str, ...]:
    """The arguments ``plugin.attribute`` asks for, as pluggy reads them (kept per class, as
    :func:`marked_opts` keeps its options)."""
    memo = _class_memo(plugin, attribute)
    if memo is None:
        return _argnames(plugin, attribute)
    key = (attribute,)
    if key not in memo:
        memo[key] = _argnames(plugin, attribute)
    return cast("tuple[str, ...]", memo[key])


def _argnames(plugin: object, attribute: str) -> tuple[str, ...]:
    no_options = pluggy.HookimplOpts(wrapper=False, hookwrapper=False, optionalhook=False,
                                     tryfirst=False, trylast=False, specname=None)
    return pluggy.HookImpl(plugin, "", getattr(plugin, attribute), no_options).argnames


def problems(plugin: object, specs: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """What is wrong with ``plugin``'s hook implementations: a name that is no hook (with the
    closest hook's name), an argument its hook does not pass."""
    specs = spec_argnames() if specs is None else specs
    found = []
    owner = "" if inspect.ismodule(plugin) else f"{getattr(plugin, '__name__', type(plugin).__name__)}."
    for attribute, hook, opts in implementations(plugin):
        shown = owner + attribute
        if hook not in specs:
            if opts.get("optionalhook"):
                continue
            close = difflib.get_close_matches(hook, list(specs), n=1)
            hint = f"did you mean {close[0]}?" if close else "see `engine hooks` for the hooks"
            found.append(f"{shown} is not a hook — {hint}")
            continue
        unknown = [arg for arg in argnames(plugin, attribute) if arg not in specs[hook]]
        if unknown:
            found.append(f"{shown} asks for {', '.join(unknown)}, which {hook} does not pass — "
                         f"ask for any of {', '.join(specs[hook])}")
    return found


def check_hooks(plugin: object, who: str, *, events_only: bool = False) -> None:
    """Refuse ``plugin`` in one line naming ``who`` when a hook implementation is wrong;
    ``events_only`` for an object that receives events but is no plugin itself (a tracker)."""
    wrong = problems(plugin)
    if events_only:
        specs = spec_argnames()
        wrong += [f"{attribute} is a registration hook; this component receives events only — "
                  f"implement it in its plugin module" for attribute, hook, _ in implementations(plugin)
                  if hook in specs and not hook.startswith("on_")]
    if wrong:
        raise PluginError(f"{who}: {'; '.join(wrong)}")


def event_method(event: str, argnames: tuple[str, ...], handler: str,
                 name: str | None = None) -> Callable[..., Any]:
    """A method taking exactly ``event``'s arguments (pluggy reads them from its code) that
    calls ``self.<handler>(name, {argument: value, ...})``."""
    name = name or event
    params = "".join(f", {arg}" for arg in argnames)
    values = ", ".join(f"{arg!r}: {arg}" for arg in argnames)
    source = f"def {name}(self{params}):\n    return self.{handler}({name!r}, {{{values}}})\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<engine {event} method>", "exec"), namespace)  # names come from the hookspecs
    method = namespace[name]
    method.__doc__ = f"Receives ``{event}`` ({', '.join(argnames)})."
    return cast(Callable[..., Any], method)
