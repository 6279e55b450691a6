"""Metrics a user asks for by name (``metrics = ["f1", "roc_auc"]``), computed from the
predictions a tabular backend already makes at its eval cadence.

Built-in names are scikit-learn's metric functions (imported when first computed); a
``package.module:function`` name is the user's ``function(y_true, scores) -> float``, logged
under the function's name. ``scores`` is what the model predicts: the positive class's
probability for a binary classifier (shape ``(n,)``), the class probabilities for a
multi-class one (``(n, k)``), the predicted values for a regressor.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from engine import EngineError, UserCodeError, resolve_import_path

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")

_CLASSIFIERS = frozenset({"binary", "multiclass"})
_ANY = frozenset(TASKS)
_BINARY_OR_REGRESSION = frozenset({"binary", "regression"})

#: Built-in metric names and the tasks they fit. ``rmse``/``mae`` of a binary classifier
#: compare the positive class's probability with the 0/1 label (``rmse`` is the Brier score's root).
FITS: Mapping[str, frozenset[str]] = {
    "accuracy": _CLASSIFIERS,
    "log_loss": _CLASSIFIERS,
    "f1": _CLASSIFIERS,
    "f1_macro": _CLASSIFIERS,
    "f1_weighted": _CLASSIFIERS,
    "precision": _CLASSIFIERS,
    "recall": _CLASSIFIERS,
    "roc_auc": _CLASSIFIERS,
    "rmse": _BINARY_OR_REGRESSION,
    "mae": _BINARY_OR_REGRESSION,
    "r2": frozenset({"regression"}),
}

#: ``max`` for metrics that grow when better, ``min`` for errors (what ``resolve_mode`` infers too).
DIRECTIONS: Mapping[str, Literal["min", "max"]] = {
    **{name: "max" for name in ("accuracy", "f1", "f1_macro", "f1_weighted", "precision", "recall", "roc_auc", "r2")},
    "rmse": "min", "mae": "min", "log_loss": "min",
}

_WHAT = {"binary": "a binary classifier", "multiclass": "a multi-class classifier", "regression": "a regressor"}


@attrs.frozen
class _Custom:
    name: str
    function: Callable[..., Any]
    path: str
    weighted: bool


@attrs.frozen
class MetricSet:
    """The metrics of one backend, checked against its task; ``names`` as logged (no split prefix)."""

    task: Task
    builtin: tuple[str, ...] = ()
    custom: tuple[_Custom, ...] = ()

    @classmethod
    def from_names(cls, names: Sequence[str], task: Task, where: str) -> MetricSet:
        """Check and resolve ``names``; ``where`` is their place in the spec (``backend.metrics``).

        Raises :class:`engine.EngineError` for an unknown name, a name that does not fit ``task``,
        a name given twice, or an import path that does not resolve to a callable.
        """
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        builtin: list[str] = []
        custom: list[_Custom] = []
        seen: set[str] = set()
        for index, name in enumerate(names):
            place = f"{where}[{index}]"
            if not isinstance(name, str) or not name:
                raise EngineError(f"expected a metric name, got {name!r}", where=place, fix=_known())
            if ":" in name:
                entry = _resolve(name, place)
                logged = entry.name
                custom.append(entry)
            else:
                if name not in FITS:
                    raise EngineError(f"unknown metric {name!r}", where=place, fix=_known())
                if task not in FITS[name]:
                    fitting = ", ".join(n for n in FITS if task in FITS[n])
                    raise EngineError(f"metric {name!r} does not fit {_WHAT[task]}", where=place,
                                      fix=f"use one of {fitting}, or a 'package.module:function'")
                logged = name
                builtin.append(name)
            if logged in seen:
                raise EngineError(f"metric {logged!r} is named twice", where=place, fix="list each metric once")
            seen.add(logged)
        return cls(task, tuple(builtin), tuple(custom))

    @staticmethod
    def computes(name: str) -> bool:
        """Whether ``name`` is one this class computes: a built-in metric (for some task) or a
        ``package.module:function`` path; other names are left to the backend (a scorer name)."""
        return name in FITS or (name.count(":") == 1 and not name.startswith(":") and not name.endswith(":"))

    @property
    def names(self) -> tuple[str, ...]:
        """The metric names as logged, without the split prefix (``f1``, ``my_metric``)."""
        return (*self.builtin, *(entry.name for entry in self.custom))

    def __bool__(self) -> bool:
        return bool(self.builtin or self.custom)

    def compute(self, y_true: Any, scores: Any, weight: Any = None) -> dict[str, float]:
        """Each metric of ``scores`` (the model's predictions) against ``y_true``, weighted by
        ``weight`` when given. A metric that is undefined on these rows (``roc_auc`` with one
        class present) is NaN. A custom function that raises is the user's failure."""
        import numpy as np

        truth = np.asarray(y_true, dtype=np.float64).ravel()
        predicted = np.asarray(scores, dtype=np.float64)
        sample_weight = None if weight is None else np.asarray(weight, dtype=np.float64).ravel()
        values = {name: _builtin(name, self.task, truth, predicted, sample_weight) for name in self.builtin}
        for entry in self.custom:
            values[entry.name] = _call(entry, y_true, scores, weight)
        return values


def _known() -> str:
    return f"use one of {', '.join(FITS)}, or a 'package.module:function' taking (y_true, scores)"


def _resolve(path: str, place: str) -> _Custom:
    function = resolve_import_path(path, what=place)
    if not callable(function):
        raise EngineError(f"{path!r} is not a function", where=place,
                          fix="point to a function(y_true, scores) -> float")
    name = getattr(function, "__name__", "") or path.rpartition(":")[2].rpartition(".")[2]
    if name in FITS:
        raise EngineError(f"custom metric {path!r} has the built-in metric name {name!r}", where=place,
                          fix="rename the function or use the built-in name")
    if not name.isidentifier():
        raise EngineError(f"custom metric {path!r} has no usable name ({name!r})", where=place,
                          fix="use a named function (def), not a lambda")
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        parameters = {}  # type: ignore[assignment]
    return _Custom(name, function, path, "sample_weight" in parameters)


def _call(entry: _Custom, y_true: Any, scores: Any, weight: Any) -> float:
    try:
        if entry.weighted and weight is not None:
            value = entry.function(y_true, scores, sample_weight=weight)
        else:
            value = entry.function(y_true, scores)
        return float(value)
    except Exception as exc:
        import traceback

        raise UserCodeError(f"custom metric {entry.path!r} raised {type(exc).__name__}: {exc}",
                            user_traceback=traceback.format_exc()) from None


def _builtin(name: str, task: Task, truth: Any, scores: Any, weight: Any) -> float:
    import numpy as np
    from sklearn import metrics

    if name in ("rmse", "mae", "r2"):
        values = scores.ravel()
        if name == "rmse":
            return float(math.sqrt(metrics.mean_squared_error(truth, values, sample_weight=weight)))
        if name == "mae":
            return float(metrics.mean_absolute_error(truth, values, sample_weight=weight))
        return _undefined_is_nan(lambda: metrics.r2_score(truth, values, sample_weight=weight))

    labels = truth.astype(np.int64)
    if task == "binary":
        probabilities = scores.ravel()
        classes: list[int] = [0, 1]
        predicted = (probabilities > 0.5).astype(np.int64)
    else:
        probabilities = scores
        classes = list(range(scores.shape[1]))
        predicted = scores.argmax(axis=1).astype(np.int64)
    if name == "accuracy":
        return float(metrics.accuracy_score(labels, predicted, sample_weight=weight))
    if name == "log_loss":
        return float(metrics.log_loss(labels, probabilities, labels=classes, sample_weight=weight))
    if name == "roc_auc":
        if len(np.unique(labels)) < 2:
            return float("nan")
        if task == "binary":
            return _undefined_is_nan(lambda: metrics.roc_auc_score(labels, probabilities, sample_weight=weight))
        return _undefined_is_nan(lambda: metrics.roc_auc_score(
            labels, probabilities, sample_weight=weight, multi_class="ovr", average="macro", labels=classes))
    average = {"f1_macro": "macro", "f1_weighted": "weighted"}.get(name, "binary" if task == "binary" else "macro")
    function = {"precision": metrics.precision_score, "recall": metrics.recall_score}.get(name, metrics.f1_score)
    return float(function(labels, predicted, labels=classes, average=average, sample_weight=weight,
                          zero_division=0))


def _undefined_is_nan(compute: Callable[[], Any]) -> float:
    try:
        return float(compute())
    except ValueError:  # e.g. roc_auc with a class absent from these rows
        return float("nan")


def split_metrics(metrics: MetricSet | None, split: str, y_true: Any, scores: Any,
                  weight: Any = None) -> dict[str, float]:
    """``{"<split>/<name>": value}`` of ``metrics`` (none when ``metrics`` is None or empty)."""
    if not metrics:
        return {}
    return {f"{split}/{name}": value for name, value in metrics.compute(y_true, scores, weight).items()}
