"""Registering a run's model: a new version with tags, an alias, and the "better" rule.

MLflow 3 has no stages; an alias names the version a role points at (``candidate``,
``champion``), and moving it is one call. ``register_if = "better"`` compares with the
version that holds the alias, on the metric recorded in its ``engine.metric`` tags.
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import attrs
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient


@attrs.frozen
class Candidate:
    """What a run offers for registration: its model, and the monitored metric's value."""

    source: str  # the model's artifact URI
    run_id: str
    tags: dict[str, str]
    metric: str = ""
    value: float | None = None
    mode: str = "min"


def register(client: MlflowClient, name: str, candidate: Candidate, *, alias: str = "",
             register_if: str = "always") -> tuple[str | None, str]:
    """Register ``candidate`` as a new version of ``name`` (set ``alias`` on it), unless
    ``register_if = "better"`` and the alias's version is at least as good.

    Returns the new version (None when not registered) and a sentence saying why.
    """
    if register_if == "better" and alias:
        holder = _holder(client, name, alias)
        if holder is not None:
            verdict = _compare(candidate, holder.version, holder.tags)
            if verdict:
                return None, verdict
    with contextlib.suppress(MlflowException), contextlib.redirect_stdout(io.StringIO()):
        client.create_registered_model(name)  # already there: fine
    tags = dict(candidate.tags)
    if candidate.metric:
        tags["engine.metric"] = candidate.metric
        tags["engine.metric_mode"] = candidate.mode
        if candidate.value is not None:
            tags["engine.metric_value"] = repr(candidate.value)
    with contextlib.redirect_stdout(io.StringIO()):
        version = client.create_model_version(name, candidate.source, run_id=candidate.run_id, tags=tags)
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
    return str(version.version), f"registered as {name!r} version {version.version}" + \
        (f" with alias {alias!r}" if alias else "")


def _holder(client: MlflowClient, name: str, alias: str) -> Any:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise


def _compare(candidate: Candidate, version: str, tags: dict[str, str]) -> str:
    """Why the candidate is not better than ``version`` (empty when it is better)."""
    if not candidate.metric or candidate.value is None or not math.isfinite(candidate.value):
        return (f"not registered: the run has no value of a monitored metric to compare with "
                f"version {version}")
    if tags.get("engine.metric") != candidate.metric:
        return ""  # a different metric (or none): nothing to compare, the new one wins
    try:
        held = float(tags["engine.metric_value"])
    except (KeyError, ValueError):
        return ""
    better = candidate.value < held if candidate.mode == "min" else candidate.value > held
    if better:
        return ""
    return (f"not registered: {candidate.metric} {candidate.value:.6g} is not better than "
            f"{held:.6g} of version {version}")
