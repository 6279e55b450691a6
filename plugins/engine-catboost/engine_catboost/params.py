"""CatBoost parameter names the backend reads or refuses, with their aliases."""

from __future__ import annotations

from typing import Any, Literal

from engine_tabular import check_values

from engine import EngineError

ROUNDS = ("iterations", "num_boost_round", "n_estimators", "num_trees")
EARLY_STOPPING = ("od_type", "od_wait", "od_pval", "early_stopping_rounds", "use_best_model")
#: Files CatBoost would write: the backend writes none (no ``catboost_info/``).
FILES = ("train_dir", "allow_writing_files", "save_snapshot", "snapshot_file", "snapshot_interval")
SEED = ("random_seed", "random_state")
LEARNING_RATE = ("learning_rate", "eta")
THREADS = ("thread_count",)
VERBOSITY = ("verbose", "logging_level", "silent", "verbose_eval", "metric_period")
BINARY = ("Logloss", "CrossEntropy")
MULTICLASS = ("MultiClass", "MultiClassOneVsAll")
RANKING = ("YetiRank", "YetiRankPairwise", "PairLogit", "PairLogitPairwise", "QueryRMSE", "QuerySoftMax",
           "QueryCrossEntropy", "LambdaMart", "StochasticRank", "GroupQuantile")
#: Regression losses whose raw prediction is a logarithm.
EXPONENT = ("Poisson", "Tweedie")

Task = Literal["binary", "multiclass", "regression"]


def first(params: dict[str, Any], names: tuple[str, ...], default: Any = None) -> Any:
    return next((params[n] for n in names if n in params), default)


def loss(params: dict[str, Any]) -> str:
    """The loss's name without its options (``Quantile:alpha=0.3`` → ``Quantile``); CatBoost's default ``RMSE``."""
    return str(params.get("loss_function", "RMSE")).partition(":")[0]


def task_of(params: dict[str, Any]) -> Task | None:
    """``binary``, ``multiclass`` or ``regression`` for the loss; None for ranking."""
    name = loss(params)
    if name in BINARY:
        return "binary"
    if name in MULTICLASS:
        return "multiclass"
    return None if name in RANKING else "regression"


def check(params: dict[str, Any]) -> None:
    """Refuse parameters the engine's loop owns, files CatBoost would write, and values no parameter takes."""
    check_values(params, library="catboost", numbers=(*LEARNING_RATE, *THREADS))
    for name in params:
        if name in ROUNDS:
            raise EngineError(f"the number of rounds is the loop's, not {name!r}", where=f"backend.params.{name}",
                              fix="remove it and set loop.max_steps")
        if name in EARLY_STOPPING:
            raise EngineError(f"early stopping is the engine's, not {name!r}", where=f"backend.params.{name}",
                              fix="remove it and add an [early_stop] section")
        if name in FILES:
            raise EngineError(f"the engine writes the model and checkpoints itself, not CatBoost ({name!r})",
                              where=f"backend.params.{name}",
                              fix="remove it; checkpoints are [checkpoint], the model is in the run directory")


def metric_list(params: dict[str, Any]) -> list[str]:
    """What CatBoost reports: ``eval_metric`` (default: the loss) and each ``custom_metric``."""
    names = [str(params.get("eval_metric", params.get("loss_function", "RMSE")))]
    custom = params.get("custom_metric", [])
    for name in [custom] if isinstance(custom, str) else list(custom):
        if str(name) not in names:
            names.append(str(name))
    return names

