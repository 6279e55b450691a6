"""Value types for options classes, with the checks that TOML's own types cannot express.

Use them in a plugin's attrs options class like any type: ``epochs: PositiveInt = 10``.
They are ``Annotated`` aliases, so type checkers see plain ``int``/``float``/``str``.
"""

from __future__ import annotations

from typing import Annotated

import attrs

from engine._core.cadence import Every


@attrs.frozen
class Check:
    """Metadata on an ``Annotated`` type: how the spec loader checks and describes it."""

    name: str


@attrs.frozen
class Between:
    """Metadata on an ``Annotated`` number: the inclusive range its values must lie in."""

    low: int | float | None = None
    high: int | float | None = None

    @property
    def name(self) -> str:
        return self.describe()

    def describe(self) -> str:
        if self.high is None:
            return f">= {self.low}"
        return f"<= {self.high}" if self.low is None else f"from {self.low} to {self.high}"


PositiveInt = Annotated[int, Check("positive")]
NonNegativeInt = Annotated[int, Check("non-negative")]
PositiveFloat = Annotated[float, Check("positive")]
NonNegativeFloat = Annotated[float, Check("non-negative")]
#: A number that may be ``nan`` or ``inf`` (plain ``float`` fields refuse them: a finite value is meant).
ExtendedFloat = Annotated[float, Check("extended")]
#: A duration in seconds, written as a number or "30 min", "2h".
Duration = Annotated[float, Check("duration")]
#: A seed every backend accepts: LightGBM's is a C ``int``, NumPy's at most 2**32 - 1.
Seed = Annotated[int, Between(0, 2**31 - 1)]
#: A ``module:attribute`` import path, resolved only when used.
ImportPath = Annotated[str, Check("import-path")]

__all__ = [
    "Between", "Check", "Duration", "Every", "ExtendedFloat", "ImportPath", "NonNegativeFloat", "NonNegativeInt",
    "PositiveFloat", "PositiveInt", "Seed",
]
