"""Entry point: declares the ``[throughput]`` section and adds a monitor to runs that use it."""

from __future__ import annotations

from typing import Any

import attrs

import engine
from engine import PositiveInt


@attrs.define
class ThroughputOptions:
    """[throughput]: log steps/s, samples/s and evaluation time."""

    every: PositiveInt = 50
    """Log throughput every this many steps."""


@engine.hookimpl
def engine_register_components(registry: Any) -> None:
    registry.add_section("throughput", ThroughputOptions)


@engine.hookimpl
def engine_run_plugins(run: Any) -> list[tuple[str, object]]:
    options = run.spec.sections.get("throughput")
    if options is None:
        return []
    from engine_throughput.monitor import ThroughputMonitor

    return [("throughput:monitor", ThroughputMonitor(options))]
