"""A JSON Schema of the spec, built from the core's and the installed plugins' options classes."""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import textwrap
import types
import typing
from typing import Any

import attrs

from engine._core.cadence import HELP as CADENCE_HELP
from engine._core.cadence import Every
from engine._core.components import ComponentRegistry
from engine._core.spec import types as t
from engine._core.spec.model import CORE_SECTIONS

_NEWTYPES: dict[Any, dict[str, Any]] = {
    t.PositiveInt: {"type": "integer", "minimum": 1},
    t.NonNegativeInt: {"type": "integer", "minimum": 0},
    t.PositiveFloat: {"type": "number", "exclusiveMinimum": 0},
    t.NonNegativeFloat: {"type": "number", "minimum": 0},
    t.ExtendedFloat: {"type": "number"},
    t.Duration: {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"}],
                 "description": "seconds, or a duration such as \"30 min\""},
    t.ImportPath: {"type": "string", "pattern": "^[\\w.]+:[\\w.]+$"},
}


def type_schema(cl: Any) -> dict[str, Any]:
    """The JSON Schema of one annotation."""
    for annotated, schema in _NEWTYPES.items():
        if cl == annotated:
            return dict(schema)
    bounds = next((m for m in getattr(cl, "__metadata__", ()) if isinstance(m, t.Between)), None)
    if bounds is not None:
        ranged: dict[str, Any] = {"type": "integer" if typing.get_args(cl)[0] is int else "number"}
        if bounds.low is not None:
            ranged["minimum"] = bounds.low
        if bounds.high is not None:
            ranged["maximum"] = bounds.high
        return ranged
    if cl is Every:
        return {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}], "description": CADENCE_HELP}
    if cl is bool:
        return {"type": "boolean"}
    if cl is int:
        return {"type": "integer"}
    if cl is float:
        return {"type": "number"}
    if cl is str:
        return {"type": "string"}
    if cl is Any:
        return {}
    origin = typing.get_origin(cl)
    args = typing.get_args(cl)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(a) for a in args if a is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin in (list, tuple) or cl in (list, tuple):
        return {"type": "array", "items": type_schema(args[0])} if args else {"type": "array"}
    if origin is dict or cl is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1])} if args else {"type": "object"}
    if attrs.has(cl):
        return options_schema(cl)
    return {}


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstrings written under each field of a class (``x: int = 1`` then ``\"\"\"doc\"\"\"``)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, following in itertools.pairwise(body):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    and isinstance(following.value.value, str)):
                docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def options_schema(cls: type, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema of an attrs options class: its fields, defaults and docs; no other keys."""
    hints = typing.get_type_hints(cls, include_extras=True)
    docs = field_docs(cls)
    properties: dict[str, Any] = dict(extra or {})
    required = []
    for field in attrs.fields(cls):
        schema = type_schema(hints.get(field.name, field.type))
        if field.default is attrs.NOTHING:
            required.append(field.name)
        elif not isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            default = field.default
            if isinstance(default, Every):
                default = str(default)
            if default is not None:
                schema["default"] = default
        if field.name in docs:
            schema["description"] = docs[field.name]
        properties[field.name] = schema
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    return out


def spec_schema(registry: ComponentRegistry) -> dict[str, Any]:
    """The whole spec's schema: core sections, one ``oneOf`` per component kind, plugin sections."""
    properties: dict[str, Any] = {name: options_schema(cls) for name, cls in CORE_SECTIONS.items()}
    for kind, many in registry.kinds.items():
        if kind == "storage":
            continue
        choices = [
            options_schema(c.options, extra={"use": {"const": c.name, "description": c.description}})
            | {"required": ["use", *options_schema(c.options).get("required", [])]}
            for c in sorted(registry.of_kind(kind).values(), key=lambda c: c.name)
        ]
        section: dict[str, Any] = {"oneOf": choices} if choices else {"type": "object"}
        properties[kind] = {"type": "array", "items": section} if many else section
    for name, declared in registry.sections.items():
        properties[name] = options_schema(declared.options)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "engine spec",
        "type": "object",
        "properties": properties,
        "required": ["backend"],
        "additionalProperties": False,
    }
