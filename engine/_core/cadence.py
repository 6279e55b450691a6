"""Cadences and limits written as "N steps", "N epochs" or a duration ("90s", "5 min", "2h")."""

from __future__ import annotations

import re

import attrs

_UNITS = {
    "step": "steps", "steps": "steps",
    "epoch": "epochs", "epochs": "epochs", "ep": "epochs",
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hour": "hours", "hours": "hours",
}
_SECONDS = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]+)\s*$")
HELP = 'write "N steps", "N epochs", a duration such as "30s", "5 min", "2h" (N > 0), or "never"'


@attrs.frozen
class Every:
    """A cadence: every ``count`` steps or epochs, or every ``seconds`` of wall time."""

    unit: str  # "steps" | "epochs" | "seconds"
    count: float

    @property
    def is_time(self) -> bool:
        return self.unit == "seconds"

    def __str__(self) -> str:
        if self.is_time:
            return f"{self.count:g}s"
        n = int(self.count)
        return f"{n} {self.unit[:-1] if n == 1 else self.unit}"


def parse_every(value: object) -> Every:
    """Parse a cadence; an integer means steps. Raises ``ValueError`` with the fix."""
    if isinstance(value, bool):
        raise ValueError(f"expected a cadence, got {value!r}; {HELP}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"must be positive, got {value}; {HELP}")
        return Every("steps", value)
    if not isinstance(value, str):
        raise ValueError(f"expected a cadence string, got {value!r}; {HELP}")
    match = _PATTERN.match(value)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"cannot read {value!r}; {HELP}")
    number = float(match.group(1))
    if number <= 0:
        raise ValueError(f"must be positive, got {value!r}; {HELP}")
    if unit in _SECONDS:
        return Every("seconds", number * _SECONDS[unit])
    if number != int(number):
        raise ValueError(f"{unit} must be a whole number, got {value!r}; {HELP}")
    return Every(unit, int(number))


def parse_duration(value: object) -> float:
    """Parse a duration (``"2h"``, ``"90 s"``, or a number of seconds) into seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"must be positive, got {value}")
        return float(value)
    every = parse_every(value)
    if not every.is_time:
        raise ValueError(f"expected a duration such as \"30 min\" or \"2h\", got {value!r}")
    return every.count
