"""Trackers: the options every tracker shares, and the failure policy that guards them.

A tracker is a component of kind ``tracker`` (``[[tracker]]`` in the spec, several at once)
that implements events, usually ``on_log``. The core never registers the tracker itself:
it registers a guard that forwards the events the tracker implements, only on the main
process, and turns a tracker failure (disk full, server down) into one warning naming the
tracker, after which that tracker is disabled and training goes on. ``strict = true`` makes
the failure fatal instead.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import attrs

from engine._core.hookcalls import argnames, check_hooks, event_argnames, event_method, implementations
from engine._core.hookspecs import hookimpl
from engine._core.redact import redact_text
from engine._core.spec.types import PositiveInt


@attrs.define
class TrackerOptions:
    """Options every tracker has; a tracker's options class subclasses this."""

    strict: bool = False
    """Fail the run if this tracker raises (default: warn once, disable it, keep training)."""
    log_every: PositiveInt | None = None
    """Send training metrics only every N steps (evaluation metrics always go through)."""


class _Guard:
    """Forwards events to a tracker; ``wants`` maps each forwarding method to the hook it
    implements and the arguments the tracker's method asks for."""

    wants: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}

    def __init__(self, tracker: Any, label: str):
        self.tracker = tracker
        self.label = label
        self.disabled = False
        options = getattr(tracker, "options", None)
        self.strict = bool(getattr(options, "strict", False))
        self.log_every = getattr(options, "log_every", None)

    def _call(self, attribute: str, args: dict[str, Any]) -> None:
        run = args["run"]
        if self.disabled or not run.is_main_process:
            return
        event, wanted = self.wants[attribute]
        if event == "on_log" and self.log_every and not _is_eval(args["metrics"]) \
                and args["step"] % self.log_every:
            return
        try:
            getattr(self.tracker, attribute)(**{name: args[name] for name in wanted})
        except Exception as exc:
            self.disabled = True  # a failed tracker is never called again, strict or not
            if self.strict:
                raise

            reason = f"{self.label} failed in {event}: {type(exc).__name__}: {exc}"
            run.warn(f"{reason}; it is disabled for the rest of the run (set strict = true to fail instead)")
            run._disabled_trackers[self.label] = f"disabled ({redact_text(reason)})"  # summary.json, status table

    def state_dict(self) -> dict[str, Any]:
        method = getattr(self.tracker, "state_dict", None)
        return method() if callable(method) else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        method = getattr(self.tracker, "load_state_dict", None)
        if callable(method):
            method(state)

    @property
    def state_key(self) -> str | None:
        """The tracker's own ``state_key``, if it declares one (else its registration name)."""
        return getattr(self.tracker, "state_key", None)


def _is_eval(metrics: dict[str, float]) -> bool:
    return any(not name.startswith("train/") and name != "lr" for name in metrics)


#: (attribute, event, arguments the tracker asks for, tryfirst, trylast) per forwarded method
_Forwarded = tuple[tuple[str, str, tuple[str, ...], bool, bool], ...]


@functools.cache
def _guard_class(forwarded: _Forwarded) -> type:
    """A guard class with one forwarder per tracker method, each taking its event's
    arguments, so events the tracker does not implement cost nothing per step."""
    events = event_argnames()
    methods: dict[str, Any] = {"wants": {}}
    for attribute, event, wanted, tryfirst, trylast in forwarded:
        method = event_method(event, events[event], "_call", name=attribute)
        methods[attribute] = hookimpl(specname=event, tryfirst=tryfirst, trylast=trylast)(method)
        methods["wants"][attribute] = (event, wanted)
    return type("GuardedTracker", (_Guard,), methods)


def guard(tracker: Any, label: str) -> Any:
    """A plugin forwarding the events ``tracker`` implements, under the failure policy.

    The tracker follows the one calling convention (see :mod:`engine._core.hookcalls`):
    its ``on_*`` methods, marked or not, receive only the arguments they name; a method
    that is no event, or asks for an argument its event does not pass, is refused here.
    """
    check_hooks(tracker, label, events_only=True)
    events = event_argnames()
    forwarded = tuple(
        (attribute, event, argnames(tracker, attribute), bool(opts.get("tryfirst")), bool(opts.get("trylast")))
        for attribute, event, opts in implementations(tracker) if event in events
    )
    return _guard_class(forwarded)(tracker, label)
