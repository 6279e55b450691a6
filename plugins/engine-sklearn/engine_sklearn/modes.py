"""How an estimator trains step by step: grow a warm-start ensemble, one partial_fit pass, or one fit."""

from __future__ import annotations

from typing import Any, Literal

Mode = Literal["grow", "partial_fit", "fit"]


def mode_of(estimator: Any) -> Mode:
    params = estimator.get_params(deep=False)
    if "warm_start" in params and "n_estimators" in params:
        return "grow"
    if callable(getattr(estimator, "partial_fit", None)):
        return "partial_fit"
    return "fit"
