"""The spec of one trial: the tuned spec with sampled values set as ``--set`` would set them."""

from __future__ import annotations

import copy
from typing import Any

from engine._core.spec.overrides import normalise, set_path
from engine.session import RawSpec
from engine_optuna.space import entry_where


def trial_raw(raw: RawSpec, values: dict[str, Any], run_name: str) -> RawSpec:
    """``raw`` without ``[tune]``, with ``values`` at their paths and ``run.name`` set."""
    data = copy.deepcopy(raw.data)
    data.pop("tune", None)
    overrides = dict(raw.overrides)
    for path, value in values.items():
        set_path(data, path, value, where=entry_where(path))
        overrides[normalise(path)] = f"{path}={value!r} (sampled from {entry_where(path)})"
    run = data.setdefault("run", {})
    if isinstance(run, dict):
        run["name"] = run_name
    return RawSpec(data, raw.text, raw.source, overrides)
