"""Validation metrics of a fitted estimator, named ``val/<metric>`` (or ``train/<metric>``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from engine_tabular import Table, metric_name
from sklearn import metrics as m


def default_scores(estimator: Any, table: Table, classifier: bool) -> dict[str, float]:
    if classifier:
        scores = {"accuracy": m.accuracy_score(table.label, estimator.predict(table.features),
                                               sample_weight=table.weight)}
        if callable(getattr(estimator, "predict_proba", None)):
            proba = estimator.predict_proba(table.features)
            scores["log_loss"] = m.log_loss(table.label, proba, labels=estimator.classes_,
                                            sample_weight=table.weight)
        return scores
    predicted = estimator.predict(table.features)
    return {"rmse": float(np.sqrt(m.mean_squared_error(table.label, predicted, sample_weight=table.weight))),
            "mae": m.mean_absolute_error(table.label, predicted, sample_weight=table.weight),
            "r2": m.r2_score(table.label, predicted, sample_weight=table.weight)}


def scores(estimator: Any, table: Table, split: str, *, classifier: bool, names: list[str]) -> dict[str, float]:
    values = {name: m.get_scorer(name)(estimator, table.features, table.label) for name in names} \
        if names else default_scores(estimator, table, classifier)
    return {metric_name(split, name): float(value) for name, value in values.items()}


def metric_names(estimator: Any, split: str, *, classifier: bool, names: list[str]) -> list[str]:
    """The names :func:`scores` reports for ``estimator`` (before it is fitted)."""
    if names:
        chosen = names
    elif classifier:
        has_proba = callable(getattr(estimator, "predict_proba", None))
        chosen = ["accuracy", "log_loss"] if has_proba else ["accuracy"]
    else:
        chosen = ["rmse", "mae", "r2"]
    return [metric_name(split, name) for name in chosen]


def missing_method(estimator: Any, name: str) -> str | None:
    """The method scorer ``name`` calls that ``estimator`` lacks (``predict_proba`` for
    ``neg_log_loss`` on a ``RidgeClassifier``), or None: the scorer would fail at the first
    evaluation, after training."""
    wanted = getattr(m.get_scorer(name), "_response_method", None)
    methods = (wanted,) if isinstance(wanted, str) else tuple(wanted or ())
    if methods and not any(callable(getattr(estimator, method, None)) for method in methods):
        return " or ".join(methods)
    return None


def check_names(names: list[str]) -> list[str]:
    """Names that are not scikit-learn scorers."""
    known = set(m.get_scorer_names())
    return [name for name in names if name not in known]
