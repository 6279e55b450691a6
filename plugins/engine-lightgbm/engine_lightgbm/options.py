"""Options of the ``lightgbm`` backend (attrs only, imported at start-up)."""

from __future__ import annotations

from typing import Any

import attrs
from engine_tabular import TabularDataOptions

from engine import NUMERICS, STRUCTURAL, by_key

#: ``params`` keys whose change a resume refuses (the saved trees do not fit) or needs
#: ``--allow-changes`` for (sampling: the rounds after the resume differ).
PARAMS_ON_RESUME = by_key(
    boosting=STRUCTURAL, objective=STRUCTURAL, num_class=STRUCTURAL,
    seed=NUMERICS, bagging_seed=NUMERICS, feature_fraction_seed=NUMERICS,
    data_random_seed=NUMERICS, bagging_fraction=NUMERICS, bagging_freq=NUMERICS,
    feature_fraction=NUMERICS, feature_fraction_bynode=NUMERICS, extra_trees=NUMERICS,
)


@attrs.define
class LightGBMOptions:
    """[backend] use = "lightgbm": one engine step is one boosting round (``Booster.update``)."""

    data: TabularDataOptions
    """The training (and validation) data: ``[backend.data]``."""
    params: dict[str, Any] = attrs.field(factory=dict, metadata=PARAMS_ON_RESUME)
    """LightGBM parameters, passed through as to ``lgb.train`` (``seed`` defaults to ``run.seed``,
    ``verbosity`` to -1). The number of rounds is ``loop.max_steps``; early stopping is ``[early_stop]``."""
    metrics: list[str] = attrs.field(factory=list)
    """Metrics computed from the predictions LightGBM keeps for its evaluation, beside ``metric``'s:
    ``accuracy``, ``log_loss``, ``f1``, ``f1_macro``, ``f1_weighted``, ``precision``, ``recall``, ``roc_auc``
    (classifiers), ``rmse``, ``mae`` (binary classifiers, regressors), ``r2`` (regressors), or
    ``package.module:function`` taking ``(y_true, scores)``; logged as ``val/<name>``."""
    eval_train: bool = False
    """Also evaluate the training data at the eval cadence (``train/<metric>``)."""
    exact_resume: bool = True
    """With bagging, feature fraction, GOSS or extra trees, resume by replaying the rounds from
    the seed (LightGBM does not save its sampler's state); without it such a resume continues
    from the saved trees and differs from an uninterrupted run."""
