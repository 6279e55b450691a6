"""Can a key path of a structured spec be set, and to this value? Answered before any run.

A tool that edits specs by key path (a tuner's search space) asks here first, so a path that
names nothing or a value that its section refuses is one line of ``engine check``.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs
from cattrs.errors import BaseValidationError

from engine._core.errors import SpecError
from engine._core.spec.convert import converter, problems_of
from engine._core.spec.model import CORE_SECTIONS, Configured, Spec
from engine._core.spec.overrides import set_path, split_path


def path_problem(spec: Spec, path: str) -> str | None:
    """Why ``path`` (``"backend.optimizer.lr"``) cannot be set in ``spec``, or ``None`` when it can.

    A key of a free-form table (``backend.params``, ``model_args``) may be new; a key of an
    options class must be one of its fields.
    """
    parts = split_path(path)
    if not parts or not isinstance(parts[0], str):
        return "not a key path — write it like backend.optimizer.lr"
    head = parts[0]
    node: Any
    if head in CORE_SECTIONS:
        value = getattr(spec, head)
        node = value if value is not None else CORE_SECTIONS[head]
    elif head in spec.components and head != "storage":
        node = spec.components[head]
        if not node:  # no [backend], no [[tracker]]
            return f"the spec has no [{head}] section — add it, or choose another path"
    elif head in spec.sections:
        node = spec.sections[head]
    else:
        sections = sorted({*CORE_SECTIONS, *(k for k, v in spec.components.items() if v), *spec.sections})
        return f"the spec has no section [{head}] — sections: {', '.join(sections)}"
    return _walk(node, parts[1:], head)


def value_problem(spec: Spec, path: str, value: Any, where: str) -> str | None:
    """The line saying why ``spec``'s section refuses ``value`` at ``path`` (it begins with
    ``where``, such as ``tune.space."backend.lr"``), or ``None`` when the section takes it.

    Only the section of ``path`` is structured: checks across sections run when the whole
    spec is structured.
    """
    head = path.split(".", 1)[0].split("[", 1)[0]
    configured = spec.components.get(head)
    cls: Any
    if isinstance(configured, Configured):
        cls = configured.component.options
    elif head in CORE_SECTIONS:
        cls = CORE_SECTIONS[head]
    elif head in spec.sections:
        cls = type(spec.sections[head])
    else:
        return None
    data = {head: copy.deepcopy(spec.raw.get(head, {}))}
    try:
        set_path(data, path, value, where=where)
    except SpecError as exc:
        return exc.problems[0]
    section = data[head]
    if not isinstance(section, dict):
        return None  # a list of components, or not a table: structuring the spec says so
    options = {k: v for k, v in section.items() if not (isinstance(configured, Configured) and k == "use")}
    try:
        converter().structure(options, cls)
    except BaseValidationError as exc:
        sub_path, message = problems_of(exc, cls, head)[0]
        return f"{where}: value {value!r} is refused by the spec: {sub_path}: {message}"
    return None


def _walk(node: Any, parts: list[str | int], seen: str) -> str | None:
    for part in parts:
        if isinstance(node, Configured):
            if part == "use":
                return None
            seen = f"{seen} ({node.name})"
            node = node.options
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return f"{seen} has no item {part}"
            node, seen = node[part], f"{seen}[{part}]"
            continue
        if attrs.has(type(node)) or (isinstance(node, type) and attrs.has(node)):
            cls = node if isinstance(node, type) else type(node)
            fields = attrs.fields_dict(cls)
            if part not in fields:
                return f"{seen} has no key {part!r} — valid keys: {', '.join(sorted(fields))}"
            if isinstance(node, type):
                return None  # a section left at its defaults: deeper keys are checked when structured
            node, seen = getattr(node, part), f"{seen}.{part}"
        elif isinstance(node, dict):
            if part not in node:
                return None  # a free-form table accepts new keys
            node, seen = node[part], f"{seen}.{part}"
        else:
            return f"{seen} is a value ({node!r}), not a table with key {part!r}"
    return None
