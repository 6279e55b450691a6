"""From TOML text to a :class:`Spec`, with every problem reported in one pass."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from cattrs.errors import BaseValidationError

from engine._core.components import ComponentRegistry
from engine._core.errors import EngineError, SpecError
from engine._core.providers import known_names, provider
from engine._core.redact import remember, remember_overrides
from engine._core.spec.convert import converter, problems_of
from engine._core.spec.model import CORE_SECTIONS, OPTIONAL_SECTIONS, Configured, RunOptions, Spec, run_name_problem
from engine._core.spec.overrides import apply_overrides, normalise, set_path
from engine._core.spec.toml_text import check_depth, key_lines, line_of, parse_toml, read_spec_text

if TYPE_CHECKING:
    from engine._core.plugins import Plugins


@attrs.define
class RawSpec:
    """The spec as TOML data, before it is structured; enough to know which plugins to load."""

    data: dict[str, Any]
    text: str
    source: str
    overrides: dict[str, str] = attrs.field(factory=dict)

    @property
    def local_plugins(self) -> list[str]:
        run = self.data.get("run")
        plugins = run.get("plugins", []) if isinstance(run, dict) else []
        return [p for p in plugins if isinstance(p, str)] if isinstance(plugins, list) else []

    def with_values(self, values: Mapping[str, Any], *, where: str, drop: Sequence[str] = ()) -> RawSpec:
        """A copy with each key path (``"backend.optimizer.lr"``) set to its value; ``where``
        says where the values came from in error messages (``"sampled from tune.space"``).
        The sections named in ``drop`` (``["tune"]``) are left out of the copy."""
        data = {key: copy.deepcopy(value) for key, value in self.data.items() if key not in drop}
        overrides = dict(self.overrides)
        for path, value in values.items():
            set_path(data, path, value, where=where)
            overrides[normalise(path)] = f"{path}={value!r} ({where})"
        return RawSpec(data, self.text, self.source, overrides)


def read_raw(path: str | Path | None = None, *, text: str | None = None,
             overrides: Sequence[str] = ()) -> RawSpec:
    """Read a spec file (or ``text``) and apply ``--set`` overrides."""
    if text is None:
        if path is None:
            raise EngineError("no spec given", fix="pass a spec file: engine run SPEC.toml")
        text = read_spec_text(path)
        source = str(path)
    else:
        source = str(path) if path is not None else "<string>"
    remember_overrides(overrides)  # an override's own error may echo its value
    data = parse_toml(text, source)
    data, sources = apply_overrides(data, overrides)
    check_depth(data, source)
    return RawSpec(data, text, source, sources)


def load_spec(path: str | Path, plugins: Plugins, overrides: Sequence[str] = ()) -> Spec:
    """Read, override, structure and check a spec file."""
    return structure_spec(read_raw(path, overrides=overrides), plugins)


def parse_spec(text: str, plugins: Plugins, overrides: Sequence[str] = ()) -> Spec:
    """Like :func:`load_spec` for a spec given as a string."""
    return structure_spec(read_raw(text=text, overrides=overrides), plugins)


class _Problems:
    def __init__(self, raw: RawSpec):
        self.raw = raw
        self.lines = key_lines(raw.text)
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        if path in self.raw.overrides:
            where = f"--set {self.raw.overrides[path]}"
        else:
            line = line_of(self.lines, path)
            where = f"{self.raw.source}:{line}" if line else self.raw.source
        self.items.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")


def structure_spec(raw: RawSpec, plugins: Plugins) -> Spec:
    """Structure every section; raise one :class:`SpecError` listing all problems."""
    registry = plugins.registry
    problems = _Problems(raw)
    data = raw.data
    remember(data)  # from here on, its secret values are hidden in every message and record
    if not data:
        problems.add("", 'the spec is empty — add at least [backend] use = "<name>" and a [loop] limit')
        raise SpecError(problems.items)

    list_kinds = {kind for kind in registry.kinds if kind != "storage"}
    known = set(CORE_SECTIONS) | list_kinds | set(registry.sections)
    for key in data:
        if key not in known:
            _unknown_section(problems, key, sorted(known))

    core: dict[str, Any] = {}
    for name, cls in CORE_SECTIONS.items():
        if name not in data:
            core[name] = None if name in OPTIONAL_SECTIONS else cls()
            continue
        core[name] = _structure(problems, data[name], cls, name)

    components: dict[str, Any] = {}
    for kind in sorted(list_kinds):
        many = registry.kinds[kind]
        value = data.get(kind)
        if value is None:
            components[kind] = [] if many else None
        elif many:
            items = value if isinstance(value, list) else [value]
            components[kind] = [
                c for i, item in enumerate(items)
                if (c := _component(problems, registry, kind, item, f"{kind}[{i}]")) is not None
            ]
        else:
            components[kind] = _component(problems, registry, kind, value, kind)
    if "backend" not in data:
        installed = ", ".join(sorted(registry.of_kind("backend"))) or "none"
        problems.add("backend", f'missing [backend] section — add [backend] use = "<name>" (installed: {installed})')

    checkpoint = core["checkpoint"]
    if checkpoint is not None:
        components["storage"] = _storage(problems, registry, checkpoint.storage, checkpoint.storage_options)

    sections = {
        name: _structure(problems, data[name], section.options, name)
        for name, section in registry.sections.items() if name in data
    }

    loop = core["loop"]
    if loop is not None and loop.max_epochs is None and loop.max_steps is None and loop.max_time is None:
        problems.add("loop", "no limit — set loop.max_epochs, loop.max_steps or loop.max_time")

    if problems.items:
        raise SpecError(problems.items)
    run = core["run"]
    if not run.name:
        run.name = _default_run_name(raw)
    spec = Spec(run=run, loop=loop, checkpoint=checkpoint, early_stop=core["early_stop"],
                cv=core["cv"], components=components, sections=sections, raw=data, source=raw.source,
                plugins=plugins)
    for result in plugins.hook.engine_check(spec=spec):
        for line in result or []:
            problems.items.append(f"{raw.source}: {line}")
    if problems.items:
        raise SpecError(problems.items)
    return spec


def structure_storage(raw: RawSpec, registry: ComponentRegistry) -> tuple[RunOptions, Configured]:
    """``[run]`` and the checkpoint storage only: what inspecting a run's checkpoints needs.

    Nothing else is structured, so the run's other components, and the ``[run] plugins``
    modules that may provide them, are not needed (and not imported).
    """
    problems = _Problems(raw)
    run = _structure(problems, raw.data.get("run", {}), RunOptions, "run")
    checkpoint = _structure(problems, raw.data.get("checkpoint", {}), CORE_SECTIONS["checkpoint"], "checkpoint")
    storage = None if checkpoint is None else _storage(problems, registry, checkpoint.storage,
                                                       checkpoint.storage_options)
    if problems.items:
        raise SpecError(problems.items)
    assert storage is not None
    if not run.name:
        run.name = _default_run_name(raw)
    return run, storage


def _default_run_name(raw: RawSpec) -> str:
    """The spec file's stem (``run`` for a spec given as text), if it is a usable folder name."""
    stem = Path(raw.source).stem if raw.source != "<string>" else "run"
    problem = run_name_problem(stem)
    if problem:
        raise SpecError([f"{raw.source}: run.name: the spec file's name gives no run name ({problem}) "
                         "— set [run] name"])
    return stem


def _structure(problems: _Problems, value: Any, cls: type, path: str) -> Any:
    if not isinstance(value, dict):
        problems.add(path, f"expected a table [{path}], got {value!r}")
        return None
    try:
        return converter().structure(value, cls)
    except BaseValidationError as exc:
        for sub_path, message in problems_of(exc, cls, path):
            problems.add(sub_path, message)
        return None


def _component(problems: _Problems, registry: ComponentRegistry, kind: str, value: Any,
               path: str) -> Configured | None:
    if not isinstance(value, dict):
        problems.add(path, f'expected a table with use = "<{kind} name>", got {value!r}')
        return None
    name = value.get("use")
    if not isinstance(name, str):
        installed = ", ".join(sorted(registry.of_kind(kind))) or "none"
        problems.add(f"{path}.use", f'missing use = "<name>" (installed {kind}s: {installed})')
        return None
    try:
        component = registry.get(kind, name, where="")
    except SpecError as exc:
        problems.add(f"{path}.use", exc.problems[0].removeprefix(": "))
        return None
    options = {k: v for k, v in value.items() if k != "use"}
    structured = _structure(problems, options, component.options, path)
    return None if structured is None else Configured(component, structured, path)


def _storage(problems: _Problems, registry: ComponentRegistry, url: str,
             storage_options: dict[str, Any]) -> Configured | None:
    try:
        component = registry.for_url(url or "file", where="")
    except SpecError as exc:
        problems.add("checkpoint.storage", exc.problems[0].removeprefix(": "))
        return None
    fields = {f.name for f in attrs.fields(component.options)}
    if "url" not in fields:
        problems.add("checkpoint.storage", f"storage {component.name!r} has no 'url' option ({component.distribution})")
        return None
    structured = _structure(problems, {"url": url, **storage_options}, component.options,
                            "checkpoint.storage_options")
    return None if structured is None else Configured(component, structured, "checkpoint.storage")


def _unknown_section(problems: _Problems, key: str, known: list[str]) -> None:
    close = difflib.get_close_matches(key, known, n=1)
    fixes = [f"did you mean [{close[0]}]?"] if close else []
    # as for components: a known plugin's section names it; any other, unless it is a typo,
    # the distribution the naming convention gives (a typo is never answered with pip install)
    typo = close or difflib.get_close_matches(key, known_names("section."), n=1)
    provided = provider(f"section.{key}", convention=None if typo else key)
    if provided is not None:
        fixes.append(provided.hint())
    fixes.append(f"valid sections: {', '.join(known)}")
    problems.add(key, f"unknown section — {'; '.join(fixes)}")
