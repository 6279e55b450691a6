"""Options of the ``catboost`` backend (attrs only, imported at start-up)."""

from __future__ import annotations

from typing import Any

import attrs
from engine_tabular import TabularDataOptions

from engine import NUMERICS, STRUCTURAL, by_key

#: ``params`` keys whose change a resume refuses (the saved trees do not fit) or needs
#: ``--allow-changes`` for (the rounds after the resume differ from an uninterrupted run's).
PARAMS_ON_RESUME = by_key(
    loss_function=STRUCTURAL, classes_count=STRUCTURAL, class_names=STRUCTURAL,
    random_seed=NUMERICS, random_state=NUMERICS, bootstrap_type=NUMERICS, subsample=NUMERICS,
    bagging_temperature=NUMERICS, rsm=NUMERICS, colsample_bylevel=NUMERICS, random_strength=NUMERICS,
    boosting_type=NUMERICS, depth=NUMERICS, max_depth=NUMERICS, grow_policy=NUMERICS,
    border_count=NUMERICS, max_bin=NUMERICS,
)


@attrs.define
class CatBoostOptions:
    """[backend] use = "catboost": one engine step is one boosting round (one CatBoost iteration)."""

    data: TabularDataOptions
    """The training (and validation, test) data: ``[backend.data]``."""
    params: dict[str, Any] = attrs.field(factory=dict, metadata=PARAMS_ON_RESUME)
    """CatBoost parameters, as to ``CatBoost(params)`` (``loss_function`` defaults to CatBoost's
    ``RMSE``, ``random_seed`` to ``run.seed``). The number of rounds is ``loop.max_steps`` and
    early stopping is ``[early_stop]``; ``learning_rate`` left out is the one CatBoost would pick
    for ``iterations = loop.max_steps``."""
    metrics: list[str] = attrs.field(factory=list)
    """Metrics computed from the predictions at the eval cadence, logged as ``val/<name>``:
    ``f1``, ``f1_weighted``, ``precision``, ``recall``, ``roc_auc``, ``accuracy``, ``rmse``,
    ``mae``, ``r2`` or ``package.module:function``; CatBoost's own ``eval_metric`` and
    ``custom_metric`` are reported beside them under CatBoost's names (``val/Logloss``)."""
    eval_train: bool = False
    """Also evaluate the training data at the eval cadence (``train/<metric>``)."""
