"""Reading TOML with positions, finding the line of a key path, and writing TOML back."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from engine._core.errors import EngineError, SpecError
from engine._core.redact import REDACTED, redact, redact_argv

__all__ = ["REDACTED", "dump_toml", "key_lines", "line_of", "parse_toml", "read_spec_text", "redact",
           "redact_argv"]

_LINE_COLUMN = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def read_spec_text(path: str | Path) -> str:
    """The spec file's text; a missing or unreadable file is one clear error."""
    file = Path(path)
    if not file.exists():
        raise EngineError(f"spec file {str(path)!r} does not exist",
                          fix="check the path, or create one from examples/")
    if file.is_dir():
        raise EngineError(f"{str(path)!r} is a directory, not a spec file",
                          fix="pass the path of a .toml file")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError(f"cannot read spec file {str(path)!r}: {exc}") from None


#: Tables and arrays nested deeper than this are refused: no spec needs them, and the
#: parser, the overrides and the writer all recurse once per level.
MAX_DEPTH = 32


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML; a syntax error names the file, line and column."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise SpecError([f"{source}: not valid TOML: tables or arrays nested too deeply "
                         f"(at most {MAX_DEPTH} levels)"]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LINE_COLUMN.search(message)
        where = f"{source}:{match.group(1)}:{match.group(2)}" if match else source
        detail = _LINE_COLUMN.sub("", message).strip()
        raise SpecError([f"{where}: not valid TOML: {detail}"]) from None
    check_depth(data, source)
    return data


def check_depth(data: dict[str, Any], source: str) -> None:
    """Refuse tables or arrays nested deeper than :data:`MAX_DEPTH` (one line, no recursion)."""
    pending: list[tuple[Any, str, int]] = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise SpecError([f"{source}: {path}: tables or arrays nested too deeply "
                             f"(at most {MAX_DEPTH} levels) — flatten the value"])
        if isinstance(value, dict):
            pending.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((v, path, depth + 1) for v in value)


def _split_key(key: str) -> list[str]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', key)
    return [a or b or c for a, b, c in parts]


def key_lines(text: str) -> dict[str, int]:
    """Map each key path written in ``text`` (``loop.max_steps``, ``tracker[1].use``) to its line."""
    lines: dict[str, int] = {}
    table: list[str] = []
    counts: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            parts = _split_key(header.group(2))
            if header.group(1) == "[[":
                joined = ".".join(parts)
                index = counts.get(joined, 0)
                counts[joined] = index + 1
                parts[-1] = f"{parts[-1]}[{index}]"
            table = parts
            lines.setdefault(".".join(table), number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault(".".join([*table, *_split_key(key.group(1))]), number)
    return lines


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of ``path``, or of its closest written ancestor."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def dump_toml(data: dict[str, Any]) -> str:
    """``data`` (a spec table: TOML values only) as TOML text."""
    import tomli_w

    return tomli_w.dumps(data)
