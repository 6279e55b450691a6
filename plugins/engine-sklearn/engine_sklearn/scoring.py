"""Metrics of a fitted estimator, named ``val/<metric>`` (or ``train/<metric>``, ``test/<metric>``).

The names of ``backend.metrics`` that :class:`engine_tabular.MetricSet` knows (``f1``, ``roc_auc``,
``rmse``, ``package.module:function`` ...) are computed from one prediction of the rows per
evaluation; any other name is a scikit-learn scorer, which predicts again for itself.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from engine_tabular import MetricSet, Table, metric_name
from sklearn import metrics as m

from engine import EngineError

_INDEX = re.compile(r"^backend\.metrics\[(\d+)\]$")


def is_own(name: str) -> bool:
    """A name :class:`MetricSet` computes (a built-in metric or an import path), not a scorer."""
    from engine_tabular import MetricSet

    return bool(MetricSet.computes(name))


class Scoring:
    """What one evaluation of a split reports: :class:`MetricSet` names from one prediction,
    scorer names by their scorers; by default accuracy and log_loss for a classifier
    (log_loss where it has ``predict_proba``), rmse, mae and r2 for a regressor."""

    def __init__(self, estimator: Any, names: list[str], *, classifier: bool, classes: int):
        self.classifier = classifier
        self.task = "regression" if not classifier else "binary" if classes <= 2 else "multiclass"
        self.default = not names
        chosen = names or (["accuracy"] if classifier else ["rmse", "mae", "r2"])
        own = [index for index, name in enumerate(chosen) if is_own(name)]
        self.scorers = [name for name in chosen if not is_own(name)]
        unknown = check_names(self.scorers)
        if unknown:
            raise EngineError(f"unknown metric {unknown[0]!r}", where=f"backend.metrics[{chosen.index(unknown[0])}]",
                              fix="use accuracy, log_loss, f1, f1_macro, f1_weighted, precision, recall, roc_auc, "
                                  "rmse, mae, r2, a scikit-learn scorer name or a 'package.module:function'")
        try:
            self.metrics = MetricSet.from_names([chosen[i] for i in own], self.task, "backend.metrics")  # type: ignore[arg-type]
        except EngineError as exc:  # name the place in the whole list, not among the built-in names
            found = _INDEX.match(exc.where or "")
            if found:
                exc.where = f"backend.metrics[{own[int(found.group(1))]}]"
            raise
        self.log_loss = self.default and classifier and has(estimator, "predict_proba")
        custom = iter(entry.name for entry in self.metrics.custom)  # an import path is logged as its function's name
        self.order = [*(next(custom) if ":" in name and is_own(name) else name for name in chosen),
                      *(["log_loss"] if self.log_loss else [])]

    def names(self, split: str) -> list[str]:
        """The names :meth:`scores` reports for ``split``."""
        return [metric_name(split, name) for name in self.order]

    def scores(self, estimator: Any, table: Table, split: str) -> dict[str, float]:
        values: dict[str, float] = {}
        if self.metrics:
            truth, scores, proba = self._predictions(estimator, table)
            values.update(self.metrics.compute(truth, scores, table.weight))
            if self.log_loss:
                values["log_loss"] = float(m.log_loss(table.label, proba, labels=estimator.classes_,
                                                      sample_weight=table.weight))
        for name in self.scorers:
            values[name] = float(m.get_scorer(name)(estimator, table.features, table.label))
        return {metric_name(split, name): values[name] for name in self.order}

    def _predictions(self, estimator: Any, table: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The labels as class indices (a classifier's), what :class:`MetricSet` takes, and the
        class probabilities where the estimator gives them: one prediction of the rows."""
        if not self.classifier:
            return table.label, np.asarray(estimator.predict(table.features), dtype=np.float64), None
        classes = np.asarray(estimator.classes_)
        truth = np.searchsorted(classes, table.label).astype(np.float64)
        if has(estimator, "predict_proba"):
            proba = np.asarray(estimator.predict_proba(table.features), dtype=np.float64)
            return truth, proba[:, 1] if self.task == "binary" else proba, proba
        if has(estimator, "decision_function"):
            decision = np.asarray(estimator.decision_function(table.features), dtype=np.float64)
            if decision.ndim == 1:
                return truth, 0.5 * (1.0 + np.tanh(decision / 2.0)), None  # the sigmoid, without overflow
            shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
            return truth, shifted / shifted.sum(axis=1, keepdims=True), None
        predicted = np.searchsorted(classes, estimator.predict(table.features))
        onehot = np.eye(max(len(classes), 2))[predicted]
        return truth, onehot[:, 1] if self.task == "binary" else onehot, None


def has(estimator: Any, method: str) -> bool:
    return callable(getattr(estimator, method, None))


def missing_method(estimator: Any, name: str) -> str | None:
    """The method scorer ``name`` calls that ``estimator`` lacks (``predict_proba`` for
    ``neg_log_loss`` on a ``RidgeClassifier``), or None: the scorer would fail at the first
    evaluation, after training."""
    if name == "log_loss":  # of probabilities: a decision function's scores are none
        return None if has(estimator, "predict_proba") else "predict_proba"
    if is_own(name):
        return None
    wanted = getattr(m.get_scorer(name), "_response_method", None)
    methods = (wanted,) if isinstance(wanted, str) else tuple(wanted or ())
    if methods and not any(callable(getattr(estimator, method, None)) for method in methods):
        return " or ".join(methods)
    return None


def check_names(names: list[str]) -> list[str]:
    """Names that are not scikit-learn scorers."""
    known = set(m.get_scorer_names())
    return [name for name in names if name not in known]
