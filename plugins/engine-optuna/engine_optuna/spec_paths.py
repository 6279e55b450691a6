"""Does a key path name a value of a spec? Answered on the structured spec, before any trial."""

from __future__ import annotations

from typing import Any

import attrs

from engine import Configured, Spec
from engine._core.spec.model import CORE_SECTIONS
from engine._core.spec.overrides import split_path


def path_problem(spec: Spec, path: str) -> str | None:
    """Why ``path`` cannot be set in ``spec``, or ``None`` when it can.

    A key of a free-form table (``backend.params``, ``model_args``) may be new; a key of an
    options class must be one of its fields.
    """
    parts = split_path(path)
    if not parts or not isinstance(parts[0], str):
        return "not a key path — write it like backend.optimizer.lr"
    head = parts[0]
    node: Any
    if head == "tune":
        return "[tune] itself cannot be searched"
    if head in CORE_SECTIONS:
        value = getattr(spec, head)
        node = value if value is not None else CORE_SECTIONS[head]
    elif head in spec.components and head != "storage":
        node = spec.components[head]
        if node is None:
            return f"the spec has no [{head}] section — add it, or search another path"
    elif head in spec.sections:
        node = spec.sections[head]
    else:
        sections = sorted({*CORE_SECTIONS, *(k for k, v in spec.components.items() if v), *spec.sections} - {"tune"})
        return f"the spec has no section [{head}] — sections: {', '.join(sections)}"
    return _walk(node, parts[1:], head)


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
                return None  # a section left at its defaults: deeper keys are checked at the first trial
            node, seen = getattr(node, part), f"{seen}.{part}"
        elif isinstance(node, dict):
            if part not in node:
                return None  # a free-form table accepts new keys
            node, seen = node[part], f"{seen}.{part}"
        else:
            return f"{seen} is a value ({node!r}), not a table with key {part!r}"
    return None
