"""Options of the ``xgboost`` backend (attrs only, imported at start-up)."""

from __future__ import annotations

from typing import Any

import attrs
from engine_tabular import TabularDataOptions

from engine import NUMERICS, STRUCTURAL, by_key

#: ``params`` keys whose change a resume refuses (the saved trees do not fit) or needs
#: ``--allow-changes`` for (sampling: the rounds after the resume differ).
PARAMS_ON_RESUME = by_key(
    booster=STRUCTURAL, objective=STRUCTURAL, num_class=STRUCTURAL,
    num_parallel_tree=STRUCTURAL, multi_strategy=STRUCTURAL,
    seed=NUMERICS, subsample=NUMERICS, sampling_method=NUMERICS,
    colsample_bytree=NUMERICS, colsample_bylevel=NUMERICS, colsample_bynode=NUMERICS,
)


@attrs.define
class XGBoostOptions:
    """[backend] use = "xgboost": one engine step is one boosting round (``Booster.update``)."""

    data: TabularDataOptions
    """The training (and validation) data: ``[backend.data]``."""
    params: dict[str, Any] = attrs.field(factory=dict, metadata=PARAMS_ON_RESUME)
    """XGBoost parameters, passed through as to ``xgb.train`` (``seed`` defaults to ``run.seed``)."""
    device: str = ""
    """``cpu``, ``cuda``, ``cuda:<n>`` or ``auto`` (CUDA when this machine and xgboost build have it,
    else the CPU); ``cuda`` where there is none is refused at ``engine check``, never a silent CPU run."""
    metrics: list[str] = attrs.field(factory=list)
    """Metrics computed from the booster's own predictions at the eval cadence, beside
    ``eval_metric``'s: ``accuracy``, ``log_loss``, ``f1``, ``f1_macro``, ``f1_weighted``, ``precision``, ``recall``,
    ``roc_auc`` (classifiers), ``rmse``, ``mae`` (binary classifiers, regressors), ``r2`` (regressors),
    or ``package.module:function`` taking ``(y_true, scores)``; logged as ``val/<name>``."""
    eval_train: bool = False
    """Also evaluate the training data at the eval cadence (``train/<metric>``)."""
    exact_resume: bool = True
    """With row or column sampling, resume by replaying the rounds from the seed (XGBoost does
    not save its sampler's state); without it such a resume continues from the saved trees
    and differs from an uninterrupted run. Without sampling resume is exact either way."""
