"""The metrics a study optimises and their directions, read from ``[tune]``."""

from __future__ import annotations

from typing import Any

from engine import resolve_mode

DIRECTIONS = ("minimize", "maximize", "auto")


def objectives(metric: Any, direction: Any) -> list[tuple[str, str]]:
    """``[(metric, "minimize" | "maximize"), ...]``; ``ValueError`` names the key and the fix."""
    metrics = [metric] if isinstance(metric, str) else metric
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) and m for m in metrics):
        raise ValueError(f'tune.metric: expected a metric name or an array of them, got {metric!r} '
                         '— e.g. metric = "val/loss"')
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"tune.metric: {metrics!r} names a metric twice — list each once")
    directions = [direction] * len(metrics) if isinstance(direction, str) else direction
    if not isinstance(directions, list) or len(directions) != len(metrics):
        raise ValueError(f"tune.direction: expected one direction per metric ({len(metrics)}), got {direction!r}")
    out = []
    for name, wanted in zip(metrics, directions, strict=True):
        if wanted not in DIRECTIONS:
            raise ValueError(f"tune.direction: expected one of {', '.join(map(repr, DIRECTIONS))}, got {wanted!r}")
        if wanted == "auto":
            wanted = "maximize" if resolve_mode("auto", name) == "max" else "minimize"
        out.append((name, wanted))
    return out
