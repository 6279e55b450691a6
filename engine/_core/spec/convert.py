"""The cattrs converter for spec sections, strict about TOML types, and its error messages."""

from __future__ import annotations

import difflib
import functools
import math
import typing
from collections.abc import Callable
from typing import Any

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)

from engine._core.cadence import Every, parse_duration, parse_every
from engine._core.spec import types as t


class ValueProblemError(ValueError):
    """A value that does not fit its type; the message says what was expected."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueProblemError(f"expected an integer, got {_describe(value)}")
    return value


def _any_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueProblemError(f"expected a number, got {_describe(value)}")
    return float(value)


def _strict_float(value: Any, cl: Any) -> float:
    """A finite number: ``nan`` and ``inf`` are refused unless the field is ``ExtendedFloat``."""
    number = _any_float(value, cl)
    if not math.isfinite(number):
        raise ValueProblemError(f"expected a finite number, got {_describe(value)}")
    return number


def _strict_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise ValueProblemError(f"expected a string, got {_describe(value)}")
    return value


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueProblemError(f"expected true or false, got {_describe(value)}")
    return value


def _bounded(check: Any, message: str, base: Any) -> Any:
    def hook(value: Any, cl: Any) -> Any:
        number = base(value, cl)
        if not check(number):
            raise ValueProblemError(f"{message}, got {_describe(value)}")
        return number
    return hook


def _every(value: Any, _: Any) -> Every | None:
    if value == "never" or value is False:
        return None
    try:
        every = parse_every(value)
    except ValueError as exc:
        raise ValueProblemError(str(exc)) from None
    if not math.isfinite(every.count):
        raise ValueProblemError(f"expected a finite cadence, got {_describe(value)}")
    return every


def _duration(value: Any, _: Any) -> float:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ValueProblemError(str(exc)) from None
    if not math.isfinite(seconds):  # nan is not a limit, and inf never ends
        raise ValueProblemError(f"expected a finite duration, got {_describe(value)}")
    return seconds


def _finite_anything(value: Any, _: Any) -> Any:
    """A free-form value (a library's parameters, a model's arguments) as written, but with no
    ``nan`` or ``inf`` inside: such options mean finite numbers, and a non-finite one is a typo."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        item, where = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            inside = f" at {where.lstrip('.')!r}" if where else ""
            raise ValueProblemError(f"expected a finite number, got {item}{inside}")
        if isinstance(item, dict):
            pending.extend((v, f"{where}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return value


def _import_path(value: Any, _: Any) -> str:
    text = _strict_str(value, None)
    module, sep, attribute = text.partition(":")
    if not (module and sep and attribute):
        raise ValueProblemError(f"expected an import path 'package.module:attribute', got {text!r}")
    return text


def _literal_hook(cl: Any) -> Any:
    allowed = typing.get_args(cl)

    def hook(value: Any, _: Any) -> Any:
        if value in allowed and type(value) is type(allowed[allowed.index(value)]):
            return value
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueProblemError(
            f"expected one of {', '.join(repr(a) for a in allowed)}, got {_describe(value)}{hint}"
        )
    return hook


def _equals(annotated: Any) -> Callable[[Any], bool]:
    return lambda cl: bool(cl == annotated)


def _between(cl: Any) -> t.Between | None:
    if typing.get_origin(cl) is not typing.Annotated:
        return None
    return next((m for m in cl.__metadata__ if isinstance(m, t.Between)), None)


def _between_hook(value: Any, cl: Any) -> Any:
    bounds = _between(cl)
    assert bounds is not None
    base = _strict_int if typing.get_args(cl)[0] is int else _strict_float
    number = base(value, cl)
    if (bounds.low is not None and number < bounds.low) or (bounds.high is not None and number > bounds.high):
        kind = "an integer" if base is _strict_int else "a number"
        raise ValueProblemError(f"expected {kind} {bounds.describe()}, got {_describe(value)}")
    return number


def _is_literal(cl: Any) -> bool:
    return typing.get_origin(cl) is typing.Literal


@functools.cache
def converter() -> cattrs.Converter:
    """The shared converter: extra keys forbidden, TOML types checked strictly."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    checks = {
        t.PositiveInt: _bounded(lambda n: n > 0, "expected an integer > 0", _strict_int),
        t.NonNegativeInt: _bounded(lambda n: n >= 0, "expected an integer >= 0", _strict_int),
        t.PositiveFloat: _bounded(lambda n: n > 0, "expected a number > 0", _strict_float),
        t.NonNegativeFloat: _bounded(lambda n: n >= 0, "expected a number >= 0", _strict_float),
        t.ExtendedFloat: _any_float,
        t.Duration: _duration,
        t.ImportPath: _import_path,
    }
    for annotated, hook in checks.items():
        conv.register_structure_hook_func(_equals(annotated), hook)
    conv.register_structure_hook_func(lambda cl: _between(cl) is not None, _between_hook)
    conv.register_structure_hook(Every, _every)
    conv.register_unstructure_hook(Every, str)
    conv.register_structure_hook_func(_is_literal, lambda v, cl: _literal_hook(cl)(v, cl))
    conv.register_structure_hook(typing.Any, _finite_anything)
    return conv


def problems_of(exc: BaseException, cl: type, prefix: str) -> list[tuple[str, str]]:
    """Flatten a cattrs error tree into ``(key path, message)`` pairs."""
    out: list[tuple[str, str]] = []
    _walk(exc, cl, prefix, out)
    return out


def _walk(exc: BaseException, cl: Any, path: str, out: list[tuple[str, str]]) -> None:
    if isinstance(exc, ForbiddenExtraKeysError):
        valid = sorted(f.name for f in attrs.fields(exc.cl)) if attrs.has(exc.cl) else []
        for key in sorted(exc.extra_fields):
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append((_join(path, key), f"unknown key — {hint}valid keys: {', '.join(valid) or 'none'}"))
        return
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            if name is not None:
                sub_path = _join(path, name)
            elif index is not None:  # an array's position, or a table's key
                sub_path = f"{path}[{index}]" if isinstance(index, int) else _join(path, str(index))
            else:
                sub_path = path
            _walk(sub, getattr(note, "type", None), sub_path, out)
        for sub in without:
            _walk(sub, cl, path, out)
        return
    if isinstance(exc, KeyError):
        out.append((path, "missing required key"))
        return
    if isinstance(exc, ValueProblemError):
        out.append((path, str(exc)))
        return
    if isinstance(exc, ValueError) and attrs.has(cl) and str(exc):
        out.append((path, str(exc)))  # the options class's own check of its values, as it says it
        return
    if isinstance(exc, (ValueError, TypeError)):
        expected = _type_name(cl)
        out.append((path, f"expected {expected}" if expected else str(exc)))
        return
    out.append((path, f"{type(exc).__name__}: {exc}"))


def _type_name(cl: Any) -> str:
    if cl is None:
        return ""
    origin = typing.get_origin(cl)
    if origin in (list, tuple):
        return "an array"
    if origin is dict or cl is dict:
        return "a table"
    if attrs.has(cl):
        return "a table"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        names = [_type_name(a) for a in typing.get_args(cl) if a is not type(None)]
        return " or ".join(n for n in names if n)
    return getattr(cl, "__name__", str(cl))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
