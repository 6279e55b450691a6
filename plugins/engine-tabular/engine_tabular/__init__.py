"""Tabular data shared by the xgboost, lightgbm, sklearn and catboost backends: their face.

A backend plugin imports these names from ``engine_tabular`` only; the modules behind them are
private. The package stays light on import: pandas and numpy load when a name that needs them
is first used (``engine_tabular.load_splits``), not when an entry point imports the options.

- Options: :class:`TabularDataOptions` (the ``[data]`` keys every tabular backend shares).
- Data: :func:`load_splits` → :class:`Splits` of :class:`Table` (train, validation, test),
  honouring ``[cv]`` folds, made once per session; :func:`session_cached` for what a backend
  makes from them once per session (a DMatrix); :func:`check_binary`, :func:`check_multiclass`
  for labels.
- Metrics: :data:`TRAIN`, :data:`VAL`, :data:`TEST` prefixes and :func:`metric_name`;
  :class:`MetricSet` (``metrics = ["f1", ...]`` checked against the task, computed from predictions)
  and :func:`split_metrics` (its values named ``<split>/<name>``).
- Parameters: :func:`spec_problems`, :func:`check_values`, :func:`thread_counts`;
  :func:`param_error`, :func:`library_message` turn a library's error into one line.
- Boosting: :class:`RoundBackend` (one boosting round per step, checkpointed, resumable),
  :class:`RoundRates`, :func:`replay_mismatch_warning`, :func:`sampling_warning`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine_tabular.boosting import RoundBackend, RoundRates, replay_mismatch_warning, sampling_warning
    from engine_tabular.labels import check_binary, check_multiclass
    from engine_tabular.library_errors import library_message, param_error
    from engine_tabular.load import Splits, load_splits, session_cached
    from engine_tabular.metric_set import MetricSet, split_metrics
    from engine_tabular.metrics import TEST, TRAIN, VAL, metric_name
    from engine_tabular.options import TabularDataOptions
    from engine_tabular.params import check_values, spec_problems, thread_counts
    from engine_tabular.table import Table

_HOMES = {
    "RoundBackend": "boosting", "RoundRates": "boosting", "replay_mismatch_warning": "boosting",
    "sampling_warning": "boosting",
    "check_binary": "labels", "check_multiclass": "labels",
    "library_message": "library_errors", "param_error": "library_errors",
    "Splits": "load", "load_splits": "load", "session_cached": "load",
    "MetricSet": "metric_set", "split_metrics": "metric_set",
    "TEST": "metrics", "TRAIN": "metrics", "VAL": "metrics", "metric_name": "metrics",
    "TabularDataOptions": "options",
    "check_values": "params", "spec_problems": "params", "thread_counts": "params",
    "Table": "table",
}

__all__ = [
    "TEST",
    "TRAIN",
    "VAL",
    "MetricSet",
    "RoundBackend",
    "RoundRates",
    "Splits",
    "Table",
    "TabularDataOptions",
    "check_binary",
    "check_multiclass",
    "check_values",
    "library_message",
    "load_splits",
    "metric_name",
    "param_error",
    "replay_mismatch_warning",
    "sampling_warning",
    "session_cached",
    "spec_problems",
    "split_metrics",
    "thread_counts",
]


def __getattr__(name: str) -> Any:
    """Import a face name's module on first use (PEP 562), so entry points stay light."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine_tabular' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"engine_tabular.{home}"), name)
    globals()[name] = value
    return value
