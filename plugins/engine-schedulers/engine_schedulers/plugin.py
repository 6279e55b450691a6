"""Entry point of engine-schedulers: registers the schedules and checks their options.

Kept light: the schedules are registered by import path and load only when a spec selects one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import SpecError, hookimpl
from engine_schedulers import options as o
from engine_schedulers.checks import problems, step_total

if TYPE_CHECKING:
    from engine import ComponentRegistry, Configured, Run, Spec

_PKG = "engine_schedulers"
SCHEDULES: dict[str, tuple[str, type]] = {
    "constant": (f"{_PKG}.schedules:Constant", o.ConstantOptions),
    "step": (f"{_PKG}.schedules:Step", o.StepOptions),
    "multistep": (f"{_PKG}.schedules:MultiStep", o.MultiStepOptions),
    "exponential": (f"{_PKG}.schedules:Exponential", o.ExponentialOptions),
    "cosine": (f"{_PKG}.schedules:Cosine", o.CosineOptions),
    "warmup-cosine": (f"{_PKG}.schedules:Cosine", o.WarmupCosineOptions),
    "warmup-linear": (f"{_PKG}.schedules:WarmupLinear", o.WarmupLinearOptions),
    "one-cycle": (f"{_PKG}.schedules:OneCycle", o.OneCycleOptions),
    "polynomial": (f"{_PKG}.schedules:Polynomial", o.PolynomialOptions),
    "reduce-on-plateau": (f"{_PKG}.plateau:ReduceOnPlateau", o.PlateauOptions),
}


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    for name, (factory, options) in SCHEDULES.items():
        registry.add("scheduler", name, factory, options=options)


def _ours(spec: Spec) -> Configured | None:
    configured = spec.component("scheduler")
    if configured is None or configured.component.name not in SCHEDULES \
            or configured.component.options is not SCHEDULES[configured.name][1]:
        return None
    return configured


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    """Everything that the spec alone decides (the run's length where ``loop.max_steps`` fixes it)."""
    configured = _ours(spec)
    if configured is None:
        return None
    options = configured.options
    total = step_total(spec.loop.max_steps, spec.loop.max_epochs)
    needs_epochs = getattr(options, "interval", "step") == "epoch" or getattr(options, "warmup_epochs", None)
    return problems(configured.name, options, configured.path, total_steps=total,
                    steps_per_epoch=None if needs_epochs else 1)


@hookimpl
def engine_run_plugins(run: Run) -> None:
    """Check the warmup against the run's length once the backend knows its steps per epoch."""

    configured = _ours(run.spec)
    if configured is None:
        return
    found = problems(configured.name, configured.options, configured.path,
                     total_steps=run.step_limit, steps_per_epoch=run.steps_per_epoch)
    if found:
        raise SpecError([f"{run.spec.source}: {line}" for line in found])
