"""Reading TOML with positions, finding the line of a key path, and writing TOML back."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from engine.errors import EngineError, SpecError
from engine.redact import REDACTED, redact, redact_argv

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


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML; a syntax error names the file, line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _LINE_COLUMN.search(message)
        where = f"{source}:{match.group(1)}:{match.group(2)}" if match else source
        detail = _LINE_COLUMN.sub("", message).strip()
        raise SpecError([f"{where}: not valid TOML: {detail}"]) from None


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
    import tomli_w

    return tomli_w.dumps(data)
