"""The search space: ``[tune.space]`` entries read into parameters, checked without Optuna."""

from __future__ import annotations

from typing import Any, Protocol

import attrs

KINDS = ("float", "int", "categorical")
_NUMERIC_KEYS = ("log", "step")


@attrs.frozen
class Param:
    """One searched value: the spec path it replaces and the range or choices it takes."""

    path: str
    kind: str
    """``float``, ``int`` or ``categorical``."""
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    @property
    def where(self) -> str:
        return entry_where(self.path)

    def corners(self) -> list[Any]:
        """Values that together exercise every extreme: the bounds, or each choice."""
        if self.kind == "categorical":
            return list(self.choices)
        cast = int if self.kind == "int" else float
        return [cast(self.low), cast(self.high)]


class Suggester(Protocol):
    """What :func:`suggest` needs from an ``optuna.Trial``."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float: ...
    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int: ...
    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


def entry_where(path: str) -> str:
    return f'tune.space."{path}"'


def parse_space(space: dict[str, Any]) -> tuple[list[Param], list[str]]:
    """The parameters, and one problem line per bad entry (key path, what is wrong, the fix)."""
    params: list[Param] = []
    problems: list[str] = []
    for path, entry in space.items():
        try:
            params.append(parse_entry(path, entry))
        except ValueError as exc:
            problems.append(f"{entry_where(path)}: {exc}")
    return params, problems


def parse_entry(path: str, entry: Any) -> Param:
    """Read one entry; ``ValueError`` says what is wrong and how to write it."""
    example = "write { float = [low, high] }, { int = [low, high] } or { categorical = [a, b] }"
    if not isinstance(entry, dict):
        raise ValueError(f"expected a table, got {entry!r} — {example}")
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        found = f"both {' and '.join(kinds)}" if kinds else "none of float, int, categorical"
        raise ValueError(f"an entry needs exactly one kind, found {found} — {example}")
    kind = kinds[0]
    allowed = {kind} if kind == "categorical" else {kind, *_NUMERIC_KEYS}
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ValueError(f"unknown key {extra[0]!r} for a {kind} — valid keys: {', '.join(sorted(allowed))}")
    if kind == "categorical":
        return _categorical(path, entry["categorical"])
    return _numeric(path, kind, entry)


def _categorical(path: str, choices: Any) -> Param:
    if not isinstance(choices, list) or not choices:
        raise ValueError("categorical needs a non-empty array of choices, e.g. { categorical = [\"adam\", \"sgd\"] }")
    for choice in choices:
        if not isinstance(choice, (str, int, float, bool)):
            raise ValueError(f"choice {choice!r} is not a string, number or boolean — "
                             "search tables by listing the values of their keys separately")
    return Param(path, "categorical", choices=tuple(choices))


def _numeric(path: str, kind: str, entry: dict[str, Any]) -> Param:
    bounds = entry[kind]
    number = int if kind == "int" else (int, float)
    if (not isinstance(bounds, list) or len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, number) for b in bounds)):
        what = "integers" if kind == "int" else "numbers"
        raise ValueError(f"{kind} needs [low, high] with two {what}, got {bounds!r}")
    low, high = bounds
    if low > high:
        raise ValueError(f"low {low!r} is greater than high {high!r} — write [low, high] with low <= high")
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(f"log must be true or false, got {log!r}")
    step = entry.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, number) or step <= 0:
            raise ValueError(f"step must be a positive {'integer' if kind == 'int' else 'number'}, got {step!r}")
        if log:
            raise ValueError("log and step cannot be combined — drop one of them")
    if log and low <= 0:
        raise ValueError(f"log scale needs low > 0, got {low!r} — raise low or drop log = true")
    return Param(path, kind, low=low, high=high, log=log, step=step)


def suggest(trial: Suggester, params: list[Param]) -> dict[str, Any]:
    """Ask the trial for a value of every parameter, named by its spec path."""
    values: dict[str, Any] = {}
    for p in params:
        if p.kind == "float":
            values[p.path] = trial.suggest_float(p.path, float(p.low), float(p.high), step=p.step, log=p.log)
        elif p.kind == "int":
            values[p.path] = trial.suggest_int(p.path, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
        else:
            values[p.path] = trial.suggest_categorical(p.path, list(p.choices))
    return values


def grid(params: list[Param]) -> tuple[dict[str, list[Any]], list[str]]:
    """Every value of every parameter, for the grid sampler; floats need a step."""
    out: dict[str, list[Any]] = {}
    problems: list[str] = []
    for p in params:
        if p.kind == "categorical":
            out[p.path] = list(p.choices)
        elif p.kind == "int":
            out[p.path] = list(range(int(p.low), int(p.high) + 1, int(p.step or 1)))
        elif p.step is None:
            problems.append(f"{p.where}: the grid sampler needs a step for a float — "
                            "add step = ... or use { categorical = [...] }")
        else:
            count = int((p.high - p.low) / p.step + 1e-9)
            out[p.path] = [round(p.low + i * p.step, 12) for i in range(count + 1)]
    return out, problems
