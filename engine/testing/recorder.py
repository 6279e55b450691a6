"""A plugin that records every event it receives: one method per event in the hookspecs."""

from __future__ import annotations

from typing import Any

import attrs

from engine._core.hookcalls import event_argnames, event_method


@attrs.frozen
class HookCall:
    """One recorded event: its name, the run's step and epoch then, and its other arguments."""

    name: str
    step: int
    epoch: int
    kwargs: dict[str, Any]


class HookRecorder:
    """A plugin that records every event it receives, in order.

    It has a method for every ``on_*`` hook, taking that hook's arguments; dict arguments
    (``metrics``) are copied as they were when the event fired.
    """

    def __init__(self) -> None:
        self.calls: list[HookCall] = []

    def _record(self, name: str, args: dict[str, Any]) -> None:
        run = args.pop("run")
        kwargs = {key: dict(value) if isinstance(value, dict) else value for key, value in args.items()}
        self.calls.append(HookCall(name, run.step, run.epoch, kwargs))

    def names(self) -> list[str]:
        return [call.name for call in self.calls]

    def count(self, name: str) -> int:
        return sum(1 for call in self.calls if call.name == name)

    def of(self, name: str) -> list[HookCall]:
        return [call for call in self.calls if call.name == name]


for _event, _argnames in event_argnames().items():
    setattr(HookRecorder, _event, event_method(_event, _argnames, "_record"))
del _event, _argnames
