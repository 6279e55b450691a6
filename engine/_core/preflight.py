"""What ``engine run`` and ``engine check`` both refuse after set-up and before training:
metrics that are monitored but never reported, and a batch the model or the loss rejects.

A monitored metric is named by the core sections (``early_stop.monitor``,
``checkpoint.monitor``), and by any built component or plugin section that defines
``monitored_metrics() -> dict[key path, metric name]`` (a plateau scheduler, ``[tune]``).
Where the backend declares the names it reports (:func:`engine._core.backend.reported_metrics`),
an unknown one is refused now with the list; otherwise it fails the run at the first
evaluation with exit status 2, never stopping it silently.
"""

from __future__ import annotations

import difflib
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from engine._core.backend import dry_run, reported_metrics
from engine._core.errors import EngineError, SpecError, UserCodeError
from engine._core.hookspecs import hookimpl

if TYPE_CHECKING:
    from engine._core.run import Run


def preflight(run: Run) -> None:
    """Refuse, before training, a monitored metric the backend does not report, then run the
    backend's one-batch check. Raises :class:`SpecError` (exit 2) or the backend's error."""
    problems = _top_k_problems(run)
    monitors = monitored(run)
    names = reported_metrics(run.backend, run) if monitors else None
    if names is not None:
        for path, metric in monitors.items():
            problem = monitor_problem(path, metric, names)
            if problem is not None:
                problems.append(problem)
    if problems:
        raise SpecError([f"{run.spec.source}: {line}" for line in problems])
    try:
        dry_run(run.backend, run)
    except EngineError:
        raise
    except Exception as exc:
        backend = run.spec.backend
        raise UserCodeError(f"one batch through backend {backend.name!r} ({backend.component.distribution}) "
                            f"raised {type(exc).__name__}: {exc}", where="backend",
                            user_traceback=traceback.format_exc()) from None


def monitored(run: Run) -> dict[str, str]:
    """Every monitored metric of the run: ``{key path: metric name}``."""
    spec = run.spec
    found: dict[str, str] = {}
    if spec.early_stop is not None:
        found["early_stop.monitor"] = spec.early_stop.monitor
    if spec.checkpoint.monitor:
        found["checkpoint.monitor"] = spec.checkpoint.monitor
    declaring: list[Any] = list(spec.sections.values())
    for built in run.components.values():
        declaring.extend(built if isinstance(built, list) else [built])
    for item in declaring:
        method = getattr(item, "monitored_metrics", None)
        if callable(method):
            found.update(method() or {})
    return found


def monitor_problem(path: str, metric: str, reported: Iterable[str]) -> str | None:
    """``None`` if ``metric`` is among ``reported``, else one line: the key path, the name,
    a close match and the names there are."""
    names = sorted(set(reported))
    if metric in names:
        return None
    close = difflib.get_close_matches(metric, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"{path}: {metric!r} is not a metric the backend reports — {hint}"
            f"it reports: {', '.join(names) or 'none'}")


def _top_k_problems(run: Run) -> list[str]:
    checkpoint = run.spec.checkpoint
    if checkpoint.save_top_k and not run.spec.checkpoint_monitor:
        return [f"checkpoint.save_top_k: keeping the {checkpoint.save_top_k} best checkpoints needs a metric "
                '— set checkpoint.monitor (e.g. "val/loss") or early_stop.monitor, or save_top_k = 0']
    return []


class MonitorCheck:
    """At the first evaluation, fails the run (exit 2) if a monitored metric is missing: the
    check for backends that cannot say their metric names before they evaluate."""

    def __init__(self, run: Run):
        self.monitors = monitored(run)
        self.source = run.spec.source
        self.checked = False

    @hookimpl(tryfirst=True)
    def on_eval(self, metrics: dict[str, float]) -> None:
        if self.checked:
            return
        self.checked = True
        problems = [p for path, metric in self.monitors.items()
                    if (p := monitor_problem(path, metric, metrics)) is not None]
        if problems:
            raise SpecError([f"{self.source}: {line}" for line in problems])


@hookimpl
def engine_run_plugins(run: Run) -> list[tuple[str, object]]:
    return [("run:monitors", MonitorCheck(run))]
