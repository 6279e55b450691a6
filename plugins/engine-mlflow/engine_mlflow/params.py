"""The effective spec as MLflow params: flat dotted keys, string values, secrets redacted."""

from __future__ import annotations

import json
import re
from typing import Any

from engine import redact

#: Characters MLflow refuses in a param or metric key.
_NOT_A_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")


def flat_params(spec: dict[str, Any], *, max_value_length: int = 6000) -> dict[str, str]:
    """``{"backend.lr": "0.05", "tracker.0.use": "mlflow", ...}`` from the spec's TOML data.

    Tables become dotted keys and arrays of tables get their index (``tracker.0.use``); other
    arrays and scalars are written as JSON (``true``, ``[1, 2]``) and strings as they are.
    Values longer than MLflow accepts are cut, ending in ``...``.
    """
    out: dict[str, str] = {}
    _flatten(redact(spec), "", out)
    for key, value in out.items():
        if len(value) > max_value_length:
            out[key] = value[: max_value_length - 3] + "..."
    return out


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}{metric_key(str(key))}.", out)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}{index}.", out)
    else:
        out[prefix[:-1]] = value if isinstance(value, str) else json.dumps(value, default=str)


def metric_key(name: str) -> str:
    """``name`` with the characters MLflow refuses in keys replaced by ``_``."""
    return _NOT_A_KEY.sub("_", name)
