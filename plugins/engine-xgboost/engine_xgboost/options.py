"""Options of the ``xgboost`` backend (attrs only, imported at start-up)."""

from __future__ import annotations

from typing import Any

import attrs
from engine_tabular.options import TabularDataOptions


@attrs.define
class XGBoostOptions:
    """[backend] use = "xgboost": one engine step is one boosting round (``Booster.update``)."""

    data: TabularDataOptions
    """The training (and validation) data: ``[backend.data]``."""
    params: dict[str, Any] = attrs.field(factory=dict)
    """XGBoost parameters, passed through as to ``xgb.train`` (``seed`` defaults to ``run.seed``)."""
    device: str = ""
    """``cpu``, ``cuda`` or ``cuda:<n>``; passed through as the ``device`` parameter."""
    eval_train: bool = False
    """Also evaluate the training data at the eval cadence (``train/<metric>``)."""
    exact_resume: bool = True
    """With row or column sampling, resume by replaying the rounds from the seed (XGBoost does
    not save its sampler's state); without it such a resume continues from the saved trees
    and differs from an uninterrupted run. Without sampling resume is exact either way."""
