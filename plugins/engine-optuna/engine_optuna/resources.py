"""A pruner's resources in steps or epochs: ``n_warmup_steps = "5 epochs"``.

The resource options of a pruner (warm-up, interval, minimum and maximum resource) may be
written like the loop's cadences: an integer or ``"N steps"`` counts optimizer steps,
``"N epochs"`` counts epochs. A pruner's resources share one unit, which is also the unit a
trial reports in: at its absolute step, or at its number of completed epochs (once per
epoch: the first evaluation at or after the epoch's end), so that ``"5 epochs"`` means five
epochs whatever batch size a trial samples.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import attrs

Unit = Literal["steps", "epochs"]

#: The options of each pruner that count a resource (Optuna calls them steps).
RESOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "median": ("n_warmup_steps", "interval_steps"),
    "percentile": ("n_warmup_steps", "interval_steps"),
    "successive-halving": ("min_resource",),
    "hyperband": ("min_resource", "max_resource"),
    "wilcoxon": ("n_startup_steps",),
}
#: Resource options that Optuna also accepts as ``"auto"`` (estimated from the first trials).
AUTO = {"min_resource", "max_resource"}
_PATTERN = re.compile(r"^\s*(\d+)\s*(steps?|epochs?)\s*$", re.IGNORECASE)
_HELP = 'write an integer (steps), "N steps" or "N epochs"'


@attrs.frozen
class PrunerResources:
    """A pruner's options with its resources as plain integers, and their unit."""

    unit: Unit
    options: dict[str, Any]


def pruner_resources(pruner: str, options: dict[str, Any]) -> PrunerResources:
    """The options Optuna takes and the unit the trials report in; ``ValueError`` (one line
    per problem, joined by newlines) for a resource that cannot be read or mixed units."""
    problems = resource_problems(pruner, options)
    if problems:
        raise ValueError("\n".join(problems))
    converted = dict(options)
    units: set[Unit] = set()
    for key in RESOURCE_OPTIONS.get(pruner, ()):
        if key in options:
            parsed = _parse(key, options[key])
            if isinstance(parsed, tuple):
                converted[key], unit = parsed
                units.add(unit)
    return PrunerResources(units.pop() if units else "steps", converted)


def resource_problems(pruner: str, options: dict[str, Any]) -> list[str]:
    """One line per resource option of ``tune.pruner_options`` that cannot be read, and one
    if the pruner's resources mix steps and epochs (``engine check`` and ``engine tune``)."""
    problems: list[str] = []
    by_unit: dict[str, list[str]] = {}
    for key in RESOURCE_OPTIONS.get(pruner, ()):
        if key not in options:
            continue
        try:
            parsed = _parse(key, options[key])
        except ValueError as exc:
            problems.append(f"tune.pruner_options.{key}: {exc}")
            continue
        if isinstance(parsed, tuple):
            by_unit.setdefault(parsed[1], []).append(key)
    if len(by_unit) > 1:
        problems.append(
            f"tune.pruner_options: {', '.join(by_unit['epochs'])} in epochs but {', '.join(by_unit['steps'])} "
            f"in steps (a plain integer counts steps) — write every resource of the {pruner} pruner in one "
            f'unit, e.g. "2 epochs" and "1 epoch"')
    return problems


def _parse(key: str, value: Any) -> tuple[Any, Unit] | str:
    """``(count, unit)``, or ``"auto"`` where Optuna estimates the resource itself; a number
    stays steps, for Optuna to judge."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number of steps or epochs, got {value!r} — {_HELP}")
    if isinstance(value, (int, float)):
        return value, "steps"
    if isinstance(value, str):
        if value == "auto" and key in AUTO:
            return value
        match = _PATTERN.match(value)
        if match is not None:
            unit: Unit = "epochs" if match.group(2).lower().startswith("epoch") else "steps"
            return int(match.group(1)), unit
    auto = ', or "auto"' if key in AUTO else ""
    raise ValueError(f"cannot read {value!r} as a number of steps or epochs — {_HELP}{auto}")
