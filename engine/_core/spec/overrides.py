"""``--set a.b.c=VALUE`` overrides: any value at any key path, the value read as TOML."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable
from typing import Any

from engine._core.errors import SpecError

_BARE_WORD = re.compile(r"^[A-Za-z_][\w.\-/:@+]*$")
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``"tracker[0].use"`` or ``"tracker.0.use"`` -> ``["tracker", 0, "use"]``."""
    parts: list[str | int] = []
    for name, index in _SEGMENT.findall(path):
        if index:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
    return parts


def parse_value(text: str) -> Any:
    """Read ``text`` as a TOML value; a bare word that is not TOML is taken as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except RecursionError:
        raise ValueError("the value is nested too deeply") from None
    except tomllib.TOMLDecodeError:
        if _BARE_WORD.match(text):
            return text
        raise ValueError(
            f"cannot read {text!r} as a TOML value (quote strings with spaces: '\"a b\"')"
        ) from None


def parse_assignment(assignment: str) -> tuple[str, Any]:
    path, sep, text = assignment.partition("=")
    path = path.strip()
    if not sep or not path:
        raise SpecError([f"--set {assignment}: expected KEY.PATH=VALUE, e.g. --set loop.max_steps=100"])
    try:
        return path, parse_value(text.strip())
    except ValueError as exc:
        raise SpecError([f"--set {assignment}: {exc}"]) from None


def apply_overrides(raw: dict[str, Any], assignments: Iterable[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply ``--set`` assignments to a copy of ``raw``.

    Returns the new dict and, for error messages, each overridden path with its assignment.
    Whether a path is valid is decided when the spec is structured, so a key that the file
    leaves at its default can still be set.
    """
    data = copy.deepcopy(raw)
    sources: dict[str, str] = {}
    for assignment in assignments:
        path, value = parse_assignment(assignment)
        set_path(data, path, value, where=f"--set {assignment}")
        sources[normalise(path)] = assignment
    return data, sources


def normalise(path: str) -> str:
    out = ""
    for part in split_path(path):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def set_path(data: dict[str, Any], path: str, value: Any, *, where: str) -> None:
    """Set ``value`` at ``path``, creating tables as needed; arrays must already be long enough."""
    parts = split_path(path)
    if not parts:
        raise SpecError([f"{where}: empty key path"])
    node: Any = data
    for position, part in enumerate(parts[:-1]):
        following = parts[position + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise SpecError([f"{where}: {normalise(path)!r} does not exist (no item {part})"])
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise SpecError([f"{where}: {normalise(path)!r} does not exist ({part!r} is not in a table)"])
        if part not in node:
            if isinstance(following, int):
                raise SpecError([f"{where}: {normalise(path)!r} does not exist (no array {part!r})"])
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise SpecError([f"{where}: {normalise(path)!r} does not exist"])
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SpecError([f"{where}: {normalise(path)!r} does not exist"])


def get_path(data: dict[str, Any], path: str) -> Any:
    """The value at ``path``; ``KeyError`` if absent."""
    node: Any = data
    for part in split_path(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise KeyError(path)
        elif not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node
