"""LightGBM parameter names the backend must recognise, with their aliases."""

from __future__ import annotations

from typing import Any

from engine_tabular import Splits, check_binary, check_multiclass, check_values

from engine import EngineError

ROUNDS = ("num_iterations", "num_iteration", "n_iter", "num_tree", "num_trees", "num_round", "num_rounds",
          "nrounds", "num_boost_round", "n_estimators", "max_iter")
EARLY_STOPPING = ("early_stopping_round", "early_stopping_rounds", "early_stopping", "n_iter_no_change")
SEED = ("seed", "random_seed", "random_state")
VERBOSITY = ("verbosity", "verbose")
LEARNING_RATE = ("learning_rate", "shrinkage_rate", "eta")
OBJECTIVE = ("objective", "objective_type", "app", "application", "loss")
CLASSIFICATION = ("binary", "multiclass", "softmax", "multiclassova", "multiclass_ova", "ova", "ovr")
NUM_CLASS = ("num_class", "num_classes")
RANKING = ("lambdarank", "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart")
_FRACTIONS = (("bagging_fraction", "sub_row", "subsample", "bagging"),
              ("pos_bagging_fraction", "pos_sub_row", "pos_bagging"),
              ("neg_bagging_fraction", "neg_sub_row", "neg_bagging"),
              ("feature_fraction", "sub_feature", "colsample_bytree"),
              ("feature_fraction_bynode", "sub_feature_bynode", "colsample_bynode"))
_BAGGING_FREQ = ("bagging_freq", "subsample_freq")


def first(params: dict[str, Any], names: tuple[str, ...], default: Any = None) -> Any:
    return next((params[n] for n in names if n in params), default)


def check(params: dict[str, Any]) -> None:
    """Refuse parameters the engine's loop owns, and values no parameter takes."""
    check_values(params, library="lightgbm",
                 numbers=(*LEARNING_RATE, *(name for names in _FRACTIONS for name in names), *_BAGGING_FREQ))
    for name in params:
        if name in ROUNDS:
            raise EngineError(f"the number of rounds is the loop's, not {name!r}", where=f"backend.params.{name}",
                              fix="remove it and set loop.max_steps")
        if name in EARLY_STOPPING:
            raise EngineError(f"early stopping is the engine's, not {name!r}", where=f"backend.params.{name}",
                              fix="remove it and add an [early_stop] section")


def sampling(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters that make rounds draw random samples (LightGBM does not save that RNG)."""
    found: dict[str, Any] = {}
    bagging = first(params, _BAGGING_FREQ, 0)
    for names in _FRACTIONS:
        value = first(params, names, 1.0)
        is_bagging = names[0].endswith("bagging_fraction")
        if value < 1.0 and (not is_bagging or bagging > 0):
            found[next(n for n in names if n in params)] = value
    for name in ("boosting", "boosting_type", "boost", "data_sample_strategy"):
        if params.get(name) in ("goss", "rf", "random_forest"):
            found[name] = params[name]
    if params.get("extra_trees") or params.get("extra_tree"):
        found["extra_trees"] = True
    return found


def check_labels(splits: Splits, params: dict[str, Any], label: str) -> None:
    """Labels the objective can learn: LightGBM would train a binary objective on three classes."""
    objective, num_class = str(first(params, OBJECTIVE, "")), first(params, NUM_CLASS)
    if objective == "binary":
        check_binary(splits, objective=objective, label=label,
                     multiclass='objective = "multiclass" with num_class = {k}')
    elif objective in CLASSIFICATION and isinstance(num_class, int) and not isinstance(num_class, bool):
        check_multiclass(splits, objective=objective, label=label, num_class=num_class)


def task(params: dict[str, Any]) -> str | None:
    """``binary``, ``multiclass`` or ``regression`` for the objective; None for ranking."""
    objective = str(first(params, OBJECTIVE, "regression"))
    if objective == "binary":
        return "binary"
    if objective in CLASSIFICATION:
        return "multiclass"
    return None if objective in RANKING else "regression"
