"""Value types for options classes, with the checks that TOML's own types cannot express.

Use them in a plugin's attrs options class like any type: ``epochs: PositiveInt = 10``.
"""

from __future__ import annotations

from typing import NewType

from engine.cadence import Every

PositiveInt = NewType("PositiveInt", int)
NonNegativeInt = NewType("NonNegativeInt", int)
PositiveFloat = NewType("PositiveFloat", float)
NonNegativeFloat = NewType("NonNegativeFloat", float)
#: A duration in seconds, written as a number or "30 min", "2h".
Duration = NewType("Duration", float)
#: A ``module:attribute`` import path, resolved only when used.
ImportPath = NewType("ImportPath", str)

__all__ = [
    "Duration", "Every", "ImportPath", "NonNegativeFloat", "NonNegativeInt",
    "PositiveFloat", "PositiveInt",
]
