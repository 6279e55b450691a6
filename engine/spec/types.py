"""Value types for options classes, with the checks that TOML's own types cannot express.

Use them in a plugin's attrs options class like any type: ``epochs: PositiveInt = 10``.
They are ``Annotated`` aliases, so type checkers see plain ``int``/``float``/``str``.
"""

from __future__ import annotations

from typing import Annotated

import attrs

from engine.cadence import Every


@attrs.frozen
class Check:
    """Metadata on an ``Annotated`` type: how the spec loader checks and describes it."""

    name: str


PositiveInt = Annotated[int, Check("positive")]
NonNegativeInt = Annotated[int, Check("non-negative")]
PositiveFloat = Annotated[float, Check("positive")]
NonNegativeFloat = Annotated[float, Check("non-negative")]
#: A duration in seconds, written as a number or "30 min", "2h".
Duration = Annotated[float, Check("duration")]
#: A ``module:attribute`` import path, resolved only when used.
ImportPath = Annotated[str, Check("import-path")]

__all__ = [
    "Check", "Duration", "Every", "ImportPath", "NonNegativeFloat", "NonNegativeInt",
    "PositiveFloat", "PositiveInt",
]
