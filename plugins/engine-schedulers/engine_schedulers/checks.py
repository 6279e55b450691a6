"""Checks across keys and against the run's length, each problem one line with its fix."""

from __future__ import annotations

import itertools
import math

from engine_schedulers import options as o
from engine_schedulers.lengths import resolve

_WARMUPS = ("warmup_steps", "warmup_epochs", "warmup_fraction")


def problems(name: str, options: o.AnyOptions, path: str, *, total_steps: float | None,
             steps_per_epoch: int | None) -> list[str]:
    """Problems with schedule ``name`` configured at ``path``.

    ``total_steps`` and ``steps_per_epoch`` are ``None`` where not known yet (before the
    backend is set up); the checks that need them are then left for the run's start.
    """
    found = [f"{path}.{key}: {message}" for key, message in _static(name, options)]
    found += [f"{path}: {message}" for message in _cross(name, options)]
    if found or total_steps is None or steps_per_epoch is None:
        return found
    lengths = resolve(options, total_steps, steps_per_epoch)
    unit = f"{lengths.unit}s"
    uses_fraction = getattr(options, "warmup_fraction", None) is not None
    if lengths.total is None and (options.needs_length or uses_fraction):
        what = "warmup_fraction" if uses_fraction and not options.needs_length else f"{name!r}"
        found.append(f"{path}: {what} needs the run's length, but only loop.max_time limits the run "
                     "— set loop.max_steps or loop.max_epochs")
    elif lengths.total is not None and lengths.warmup and lengths.warmup >= lengths.total:
        key = next(k for k in _WARMUPS if getattr(options, k, None) is not None)
        found.append(f"{path}.{key}: the warmup ({lengths.warmup} {unit}) is not shorter than the run "
                     f"({lengths.total} {unit}) — shorten the warmup or lengthen the run")
    return found


def _static(name: str, options: o.AnyOptions) -> list[tuple[str, str]]:
    out = []
    fraction = getattr(options, "warmup_fraction", None)
    if fraction is not None and fraction >= 1:
        out.append(("warmup_fraction", f"must be below 1 (a fraction of the run), got {fraction:g}"))
    floor = getattr(options, "min_factor", None)
    if floor is not None and floor > 1:
        out.append(("min_factor", f"must be at most 1 (a fraction of the base lr), got {floor:g}"))
    if isinstance(options, o.OneCycleOptions) and options.pct_start >= 1:
        out.append(("pct_start", f"must be below 1 (a fraction of the run), got {options.pct_start:g}"))
    if isinstance(options, o.PlateauOptions) and options.gamma >= 1:
        out.append(("gamma", f"must be below 1 to reduce the lr, got {options.gamma:g}"))
    if isinstance(options, o.MultiStepOptions):
        milestones = options.milestones
        if not milestones:
            out.append(("milestones", "is empty — give at least one step (or epoch), e.g. [30, 60]"))
        elif any(b <= a for a, b in itertools.pairwise(milestones)):
            out.append(("milestones", f"must be strictly increasing, got {milestones}"))
    return out


def _cross(name: str, options: o.AnyOptions) -> list[str]:
    given = [k for k in _WARMUPS if getattr(options, k, None) is not None]
    if len(given) > 1:
        return [f"{' and '.join(given)} are both set — give only one warmup length"]
    if options.needs_warmup and not given:
        plain = {"warmup-cosine": "cosine", "warmup-linear": "polynomial"}.get(name, "another schedule")
        return [f"{name!r} needs a warmup — set warmup_steps, warmup_epochs or warmup_fraction "
                f"(or use {plain!r} for none)"]
    if given == ["warmup_steps"] and getattr(options, "interval", "step") == "epoch":
        return ['warmup_steps counts steps, but interval = "epoch" — use warmup_epochs or warmup_fraction']
    return []


def step_total(max_steps: int | None, max_epochs: int | None) -> float | None:
    """The run's length in steps when the spec alone fixes it, ``inf`` when unbounded, else ``None``."""
    if max_epochs is not None:
        return None
    return math.inf if max_steps is None else float(max_steps)
