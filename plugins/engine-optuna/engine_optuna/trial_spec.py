"""The spec of one trial: the tuned spec with sampled values set as ``--set`` would set them."""

from __future__ import annotations

from typing import Any

from engine.session import RawSpec
from engine_optuna.space import entry_where


def trial_raw(raw: RawSpec, values: dict[str, Any], run_name: str) -> RawSpec:
    """``raw`` without ``[tune]``, with ``values`` at their paths and ``run.name`` set."""
    trial = raw.with_values({}, where="engine tune", drop=["tune"])
    for path, value in values.items():  # one at a time: each error names its own entry
        trial = trial.with_values({path: value}, where=f"sampled from {entry_where(path)}")
    return trial.with_values({"run.name": run_name}, where="the trial's run name, set by engine tune")
