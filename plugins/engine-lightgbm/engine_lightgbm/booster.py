"""Building a LightGBM booster exactly as ``lgb.train`` does, optionally continuing a saved model.

``lgb.train`` has no way to build a booster without running at least one round, so these few
lines follow its body (LightGBM 4.x): the datasets take the parameters and the initial
model's predictions, then the booster merges the initial model's trees.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
from engine_tabular import Table


def dataset(table: Table, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    """A Dataset with feature names, pandas categoricals, weights and group sizes."""
    return lgb.Dataset(table.features, label=table.label, weight=table.weight,
                       group=None if table.group is None else table.group_sizes(),
                       reference=reference, free_raw_data=False)


def build(params: dict[str, Any], train: Table, valid: Table | None, *, model: str | None = None) -> lgb.Booster:
    """A booster with ``valid`` attached as ``val`` (when given: LightGBM then scores it every
    round), continuing ``model`` (a model string) if given."""
    train_set = dataset(train)
    valid_set = dataset(valid, reference=train_set) if valid is not None else None
    predictor = None
    if model is not None:
        init = lgb.Booster(model_str=model)
        predictor = lgb.basic._InnerPredictor.from_booster(booster=init, pred_parameter=dict(init.params, **params))
    train_set._update_params(params)._set_predictor(predictor)
    if valid_set is not None:
        valid_set._update_params(params).set_reference(train_set)
    try:
        booster = lgb.Booster(params=params, train_set=train_set)
        if valid_set is not None:
            booster.add_valid(valid_set, "val")
    finally:
        train_set._reverse_update_params()
        if valid_set is not None:
            valid_set._reverse_update_params()
    return booster


def attach(booster: lgb.Booster, params: dict[str, Any], table: Table, name: str) -> lgb.Dataset:
    """Attach ``table`` to ``booster`` as one more evaluation set ``name`` (as ``lgb.train`` does
    with its ``valid_sets``); LightGBM scores it with every tree so far, then every round."""
    data = dataset(table, reference=booster.train_set)
    data._update_params(params).set_reference(booster.train_set)
    try:
        booster.add_valid(data, name)
    finally:
        data._reverse_update_params()
    return data
