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
from collections.abc import Callable
from typing import Any

import attrs

from engine._core.hookspecs import event_names, hookimpl
from engine._core.spec.types import PositiveInt


@attrs.define
class TrackerOptions:
    """Options every tracker has; a tracker's options class subclasses this."""

    strict: bool = False
    """Fail the run if this tracker raises (default: warn once, disable it, keep training)."""
    log_every: PositiveInt | None = None
    """Send training metrics only every N steps (evaluation metrics always go through)."""


class _Guard:
    def __init__(self, tracker: Any, label: str):
        self.tracker = tracker
        self.label = label
        self.disabled = False
        options = getattr(tracker, "options", None)
        self.strict = bool(getattr(options, "strict", False))
        self.log_every = getattr(options, "log_every", None)

    def _call(self, event: str, run: Any, kwargs: dict[str, Any]) -> None:
        if self.disabled or not run.is_main_process:
            return
        if event == "on_log" and self.log_every and not _is_eval(kwargs["metrics"]) \
                and kwargs["step"] % self.log_every:
            return
        try:
            getattr(self.tracker, event)(run=run, **kwargs)
        except Exception as exc:
            self.disabled = True  # a failed tracker is never called again, strict or not
            if self.strict:
                raise

            run.warn(f"tracker {self.label} failed in {event}: {type(exc).__name__}: {exc}; "
                      "it is disabled for the rest of the run (set strict = true to fail instead)")

    def state_dict(self) -> dict[str, Any]:
        method = getattr(self.tracker, "state_dict", None)
        return method() if callable(method) else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        method = getattr(self.tracker, "load_state_dict", None)
        if callable(method):
            method(state)


def _is_eval(metrics: dict[str, float]) -> bool:
    return any(not name.startswith("train/") and name != "lr" for name in metrics)


# One forwarder per event, with the event's own argument names (pluggy reads them).
def _on_run_start(self: _Guard, run: Any) -> None:
    self._call("on_run_start", run, {})


def _on_resume(self: _Guard, run: Any, checkpoint: Any) -> None:
    self._call("on_resume", run, {"checkpoint": checkpoint})


def _on_epoch_start(self: _Guard, run: Any) -> None:
    self._call("on_epoch_start", run, {})


def _on_step(self: _Guard, run: Any) -> None:
    self._call("on_step", run, {})


def _on_log(self: _Guard, run: Any, metrics: dict[str, float], step: int) -> None:
    self._call("on_log", run, {"metrics": metrics, "step": step})


def _on_eval(self: _Guard, run: Any, metrics: dict[str, float]) -> None:
    self._call("on_eval", run, {"metrics": metrics})


def _on_checkpoint(self: _Guard, run: Any, checkpoint: Any) -> None:
    self._call("on_checkpoint", run, {"checkpoint": checkpoint})


def _on_epoch_end(self: _Guard, run: Any) -> None:
    self._call("on_epoch_end", run, {})


def _on_run_end(self: _Guard, run: Any, status: str) -> None:
    self._call("on_run_end", run, {"status": status})


def _on_exception(self: _Guard, run: Any, exception: BaseException) -> None:
    self._call("on_exception", run, {"exception": exception})


_FORWARDERS: dict[str, Callable[..., None]] = {
    "on_run_start": _on_run_start, "on_resume": _on_resume, "on_epoch_start": _on_epoch_start,
    "on_step": _on_step, "on_log": _on_log, "on_eval": _on_eval, "on_checkpoint": _on_checkpoint,
    "on_epoch_end": _on_epoch_end, "on_run_end": _on_run_end, "on_exception": _on_exception,
}


@functools.cache
def _guard_class(events: tuple[str, ...]) -> type:
    """A guard class with exactly these events, so unused events cost nothing per step."""
    methods: dict[str, Any] = {event: hookimpl(_FORWARDERS[event]) for event in events}
    return type("GuardedTracker", (_Guard,), methods)


def guard(tracker: Any, label: str) -> Any:
    """A plugin forwarding the events ``tracker`` implements, under the failure policy."""
    events = tuple(e for e in event_names() if callable(getattr(tracker, e, None)))
    return _guard_class(events)(tracker, label)
