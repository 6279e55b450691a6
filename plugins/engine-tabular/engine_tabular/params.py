"""Parameter values a boosted-tree library can take, checked before the library sees them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import EngineError

_SCALARS = (str, int, float, bool)


def check_values(params: Mapping[str, Any], *, library: str, numbers: Iterable[str] = (),
                 where: str = "backend.params") -> None:
    """Refuse a table (or a list holding one) anywhere, and a non-number where the engine reads a number.

    ``numbers`` are the keys the engine itself reads as numbers (learning rate, sampling fractions).
    """
    numeric = set(numbers)
    for key, value in params.items():
        if not _plain(value):
            raise EngineError(f"{library} parameter {key} = {value!r} is not a number, string, boolean or list",
                              where=f"{where}.{key}", fix=f"see the {library} parameter documentation")
        if key in numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise EngineError(f"{key} must be a number, got {value!r}", where=f"{where}.{key}",
                              fix=f"write it without quotes, e.g. {key} = 0.1")


def _plain(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    return False
