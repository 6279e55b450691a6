"""Options of the ``sklearn`` backend (attrs only, imported at start-up)."""

from __future__ import annotations

from typing import Any, Literal

import attrs
from engine_tabular import TabularDataOptions

from engine import NUMERICS, STRUCTURAL, ImportPath, PositiveInt


@attrs.define
class SklearnOptions:
    """[backend] use = "sklearn": an estimator by import path, trained step by step where it can be."""

    estimator: ImportPath = attrs.field(metadata=STRUCTURAL)
    """e.g. ``"sklearn.ensemble:RandomForestClassifier"``."""
    data: TabularDataOptions
    """The training (and validation) data: ``[backend.data]``."""
    params: dict[str, Any] = attrs.field(factory=dict)
    """Constructor parameters (``random_state`` defaults to ``run.seed`` where the estimator has one)."""
    estimators_per_step: PositiveInt = attrs.field(default=10, metadata=NUMERICS)
    """Warm-start ensembles (random forest, extra trees, gradient boosting) grow by this many per step."""
    metrics: list[str] = attrs.field(factory=list)
    """``accuracy``, ``log_loss``, ``f1``, ``f1_macro``, ``f1_weighted``, ``precision``, ``recall``, ``roc_auc``
    (classifiers), ``rmse``, ``mae`` (binary classifiers, regressors), ``r2`` (regressors) and
    ``package.module:function`` taking ``(y_true, scores)``, all computed from one prediction per
    evaluation; any other scikit-learn scorer name (``neg_log_loss``, ``balanced_accuracy`` ...)
    predicts again. Default: accuracy and log_loss for classifiers, rmse, mae and r2 for regressors."""
    eval_train: bool = False
    """Also evaluate the training data at the eval cadence (``train/<metric>``)."""
    export: Literal["auto", "skops", "joblib"] = "auto"
    """Model file format: ``skops`` (safe to load from untrusted sources after review), ``joblib``
    (pickle: never load one you did not make), ``auto`` = skops when installed."""
