"""The ``xgboost`` backend: one engine step is one ``Booster.update`` (one boosting round)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xgboost as xgb
from engine_tabular import (
    TEST,
    TRAIN,
    VAL,
    MetricSet,
    RoundBackend,
    RoundRates,
    Splits,
    Table,
    check_binary,
    check_multiclass,
    check_values,
    library_message,
    load_splits,
    metric_name,
    param_error,
    replay_mismatch_warning,
    sampling_warning,
    session_cached,
    split_metrics,
    thread_counts,
)

from engine import EngineError, Run, TrainingError, warn_parallelism
from engine_xgboost.device import resolve_device
from engine_xgboost.options import XGBoostOptions

_SAMPLING_DEFAULTS = {"subsample": 1, "colsample_bytree": 1, "colsample_bylevel": 1, "colsample_bynode": 1}
_CLASSIFICATION = ("binary:", "multi:")


def sampling_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters that make rounds draw random samples (XGBoost does not save that RNG)."""
    found = {k: params[k] for k, default in _SAMPLING_DEFAULTS.items() if k in params and params[k] != default}
    if params.get("sampling_method", "uniform") != "uniform":
        found["sampling_method"] = params["sampling_method"]
    return found


def to_dmatrix(table: Table, where: str, nthread: int = -1) -> xgb.DMatrix:
    """A DMatrix with weights, query ids and categorical columns; without feature names unless
    a column is categorical.

    XGBoost compares a DMatrix's feature names and types with the booster's in Python on every
    ``update`` and ``eval_set``: with names that is a fifth of a round on small data. Training
    runs on plain arrays; the exported model gets the names (:func:`feature_info`).
    """
    features = table.features if table.categorical else table.features.to_numpy()
    try:
        return xgb.DMatrix(features, label=table.label, weight=table.weight, qid=table.group,
                           enable_categorical=bool(table.categorical), nthread=nthread)
    except (xgb.core.XGBoostError, ValueError, TypeError) as exc:
        raise EngineError(f"xgboost cannot use this data: {library_message(exc)}", where=where,
                          fix="check the column types and, for ranking, that rows are sorted by group") from None


def session_dmatrix(run: Run, table: Table, where: str, nthread: int = -1) -> xgb.DMatrix:
    """:func:`to_dmatrix` once per table and thread count for the session: a tuning worker's
    trials train on the same tables (:func:`engine_tabular.load_splits`), and neither they nor
    XGBoost change a DMatrix (a booster keeps its own caches beside it; a DMatrix keeps the
    histogram cuts of the last ``max_bin``, which XGBoost rebuilds when it changes). The entry
    holds its table, so no other table can take its id while it is kept."""
    key = (id(table), where, nthread)
    made = session_cached(run, "engine-xgboost:dmatrix", key, lambda: (table, to_dmatrix(table, where, nthread)),
                          KEPT_MATRICES)
    return made[1]


#: DMatrices a session keeps (:func:`session_dmatrix`): train, valid and test of a few splits.
KEPT_MATRICES = 12


def feature_info(table: Table) -> tuple[list[str], list[str] | None]:
    """The feature names and types XGBoost gives the table's columns (read from a one-row DMatrix
    once per set of columns and dtypes: the trials of a study ask again and again)."""
    key = tuple((str(name), str(dtype)) for name, dtype in table.features.dtypes.items())
    if key not in _FEATURE_INFO:
        sample = xgb.DMatrix(table.features.iloc[:1], enable_categorical=bool(table.categorical), nthread=1)
        types = sample.feature_types
        _FEATURE_INFO[key] = (list(sample.feature_names or table.feature_names), None if types is None else list(types))
    names, types = _FEATURE_INFO[key]
    return list(names), None if types is None else list(types)


_FEATURE_INFO: dict[tuple[tuple[str, str], ...], tuple[list[str], list[str] | None]] = {}

#: Booster parameters that change the values of the evaluation metrics, never their names.
NAME_NEUTRAL_PARAMS = frozenset({
    "eta", "learning_rate", "max_depth", "min_child_weight", "max_delta_step", "subsample", "colsample_bytree",
    "colsample_bylevel", "colsample_bynode", "lambda", "reg_lambda", "alpha", "reg_alpha", "gamma",
    "min_split_loss", "max_leaves", "max_bin", "scale_pos_weight", "seed", "random_state", "nthread", "n_jobs",
})
_METRIC_NAMES: dict[tuple[bool, str], list[str]] = {}


class XGBoostBackend(RoundBackend):
    """Boosted trees with XGBoost, driven round by round by the engine loop."""

    extension = "ubj"

    def __init__(self, options: XGBoostOptions):
        super().__init__(options)
        self.options: XGBoostOptions = options
        self.booster: xgb.Booster | None = None
        #: Feature names and types for exported models, when training runs without them.
        self.features: tuple[list[str], list[str] | None] | None = None

    # ------------------------------------------------------------------ setup

    def setup(self, run: Run) -> None:
        self._run = run
        check_values(self.options.params, library="xgboost", numbers=("eta", "learning_rate"))
        warn_parallelism(run, thread_counts(self.options.params), where="backend.params")
        params = dict(self.options.params)
        params.setdefault("seed", run.seed)
        device = resolve_device(self.options.device, params, "backend")
        if device:
            params["device"] = device
        self.params = params
        if params.get("booster") == "gblinear":  # a linear model cannot be cut back to a round
            self.export_as_of = None  # type: ignore[method-assign,assignment]
        self.sampling = sampling_params(params)
        self.metrics = metric_set(self.options.metrics, params)
        classification = str(params.get("objective", "")).startswith(_CLASSIFICATION)
        self.splits = load_splits(self.options.data, run, classification=classification)
        _check_labels(self.splits, params, self.options.data.label)
        nthread = params.get("nthread", params.get("n_jobs", -1))  # the booster's threads build its data too
        nthread = nthread if isinstance(nthread, int) and not isinstance(nthread, bool) else -1
        self.dtrain = session_dmatrix(run, self.splits.train, "backend.data.train", nthread)
        if self.dtrain.feature_names is None:
            self.features = feature_info(self.splits.train)
        self.dvalid = session_dmatrix(run, self.splits.valid, "backend.data.valid", nthread)
        test = self.splits.test
        self.dtest = None if test is None else session_dmatrix(run, test, "backend.data.test", nthread)
        # a run that never evaluates keeps the validation set out of the prediction cache,
        # so rounds do not pay for its predictions (as xgb.train without evals)
        self.cache = [self.dtrain, self.dvalid] if run.spec.loop.eval_every is not None else [self.dtrain]
        self.rate_key = "learning_rate" if "learning_rate" in params else "eta"
        self.rates = RoundRates(run, float(params.get(self.rate_key, 0.3)))
        self.booster = self._new_booster()
        strategy = run.components.get("strategy")
        if strategy is not None:  # the strategy trains each round (engine-distributed's dask)
            self.remote = strategy.xgboost_rounds(self.splits.train)

    def _new_booster(self) -> xgb.Booster:
        try:
            booster = xgb.Booster(self.params, self.cache)
            booster.save_config()  # makes XGBoost check every parameter now, not at the first round
        except xgb.core.XGBoostError as exc:
            raise param_error(exc, self.options.params, library="xgboost") from None
        return booster


    # ------------------------------------------------------------------ training

    def train_step(self, run: Run) -> None:
        assert self.booster is not None
        if self.rates.active:
            self.booster.set_param(self.rate_key, str(self.rates.next(run)))  # what set_param sends anyway
        if self.remote is not None:
            params = {**self.params, self.rate_key: self.rates.current} if self.rates.active else self.params
            trained = self.remote.round(self.booster, params)
            self.booster = self._training_booster(trained.save_raw("ubj"))
            return
        try:
            self.booster.update(self.dtrain, run.step)
        except xgb.core.XGBoostError as exc:  # its text carries a native stack trace: keep the message
            raise TrainingError(f"xgboost failed in round {run.step + 1}: {library_message(exc)}",
                                fix="check backend.params and the data against the xgboost documentation") from None


    def evaluate(self, run: Run) -> dict[str, float]:
        assert self.booster is not None and self.splits is not None
        evals = [(self.dtrain, TRAIN)] if self.options.eval_train else []
        evals.append((self.dvalid, VAL))
        results = parse_eval(self.booster.eval_set(evals, iteration=run.step - 1))
        tables = {TRAIN: self.splits.train, VAL: self.splits.valid}
        for matrix, split in evals:  # predictions of cached matrices come from XGBoost's prediction cache
            results.update(self._metrics(split, matrix, tables[split]))
        return results

    def test(self, run: Run) -> dict[str, float]:
        """The ``test`` split's metrics (``test/<eval_metric>``, ``test/<metric>``) of the final
        model, or none without a test split."""
        assert self.booster is not None and self.splits is not None
        if self.dtest is None or self.splits.test is None:
            return {}
        results = parse_eval(self.booster.eval_set([(self.dtest, TEST)], iteration=max(run.step - 1, 0)))
        results.update(self._metrics(TEST, self.dtest, self.splits.test))
        return results

    def _metrics(self, split: str, matrix: xgb.DMatrix, table: Table) -> dict[str, float]:
        if not self.metrics:
            return {}
        assert self.booster is not None
        scores = model_scores(self.booster.predict(matrix), self.params)
        return split_metrics(self.metrics, split, table.label, scores, table.weight)

    def input_example(self) -> Any:
        """Five training rows as the exported model takes them (a DataFrame with feature names)."""
        assert self.splits is not None
        return self.splits.train.features.head(5)

    def metric_names(self, run: Run) -> list[str]:
        """What :meth:`evaluate` reports, read from one evaluation of the untrained model on a
        copy (the booster and its prediction cache stay as they were): XGBoost names its
        default metrics itself (``ndcg@32``, ...), and an ``eval_metric`` it rejects fails here.
        Read once per process for parameters that differ only where names cannot (the trials
        of a study sampling ``eta`` and ``max_depth``)."""
        assert self.booster is not None
        evals = [(self.dtrain, TRAIN)] if self.options.eval_train else []
        evals.append((self.dvalid, VAL))
        key = (bool(self.options.eval_train), repr(sorted((k, repr(v)) for k, v in self.params.items()
                                                           if k not in NAME_NEUTRAL_PARAMS)))
        names = _METRIC_NAMES.get(key)
        if names is None:
            try:
                names = list(parse_eval(self.booster.copy().eval_set(evals, iteration=0)))
            except xgb.core.XGBoostError as exc:
                raise param_error(exc, self.options.params, library="xgboost") from None
            _METRIC_NAMES[key] = names
        own = [f"{split}/{name}" for _, split in evals for name in (self.metrics.names if self.metrics else ())]
        return [*names, *(name for name in own if name not in names)]

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        assert self.booster is not None
        return {"model": bytes(self.booster.save_raw("ubj")), "rounds": self.booster.num_boosted_rounds(),
                "rates": list(self.rates.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        model, rounds = bytes(state["model"]), int(state["rounds"])
        self.rates.history = [float(r) for r in state["rates"]]
        if self.rates.history:
            self.rates.current = self.rates.history[-1]
        if self.sampling and self.options.exact_resume:
            replayed = self._replay(rounds)
            if bytes(replayed.save_raw("ubj")) == model:
                self.booster = replayed
                return
            self._warn(replay_mismatch_warning("xgboost"))
        elif self.sampling:
            self._warn(sampling_warning("xgboost", self.sampling))
        self.booster = self._training_booster(bytearray(model))

    def _training_booster(self, model: bytearray) -> xgb.Booster:
        """A booster loaded from ``model``, its feature names matching the training data's."""
        booster = xgb.Booster(self.params, self.cache, model_file=model)
        if self.features is not None:  # a model saved with names (by another version, by Dask)
            booster.feature_names, booster.feature_types = None, None
        return booster

    def _replay(self, rounds: int) -> xgb.Booster:
        """Train ``rounds`` rounds again from the seed, so the sampler's RNG is where it was."""
        booster = self._new_booster()
        for index in range(rounds):
            if index < len(self.rates.history):
                booster.set_param(self.rate_key, str(self.rates.history[index]))
            booster.update(self.dtrain, index)
        return booster


    # ------------------------------------------------------------------ export

    def model_bytes(self, rounds: int | None = None) -> bytes:
        """UBJSON, XGBoost's native format, with the feature names."""
        assert self.booster is not None
        booster = self.booster if rounds is None else self.booster[:rounds]
        if self.features is not None:
            booster = booster.copy() if booster is self.booster else booster
            booster.feature_names, booster.feature_types = self.features
        return bytes(booster.save_raw("ubj"))


def _check_labels(splits: Splits, params: dict[str, Any], label: str) -> None:
    """Labels the objective can learn, refused now rather than by XGBoost at the first round."""
    objective, num_class = str(params.get("objective", "")), params.get("num_class")
    if objective.startswith("binary:"):
        check_binary(splits, objective=objective, label=label,
                     multiclass='objective = "multi:softprob" with num_class = {k}')
    elif objective.startswith("multi:") and isinstance(num_class, int) and not isinstance(num_class, bool):
        check_multiclass(splits, objective=objective, label=label, num_class=num_class)


def task_of(params: dict[str, Any]) -> str | None:
    """``binary``, ``multiclass`` or ``regression`` for the objective; None for ranking."""
    objective = str(params.get("objective", "reg:squarederror"))
    if objective.startswith("binary:"):
        return "binary"
    if objective.startswith("multi:"):
        return "multiclass"
    return None if objective.startswith("rank:") else "regression"


def metric_set(names: list[str], params: dict[str, Any]) -> MetricSet | None:
    """``backend.metrics`` checked against the objective's task (None when there are none)."""
    if not names:
        return None
    task = task_of(params)
    if task is None:
        raise EngineError(f"metrics {names} need a classification or regression objective, not "
                          f"{params.get('objective')!r}", where="backend.metrics",
                          fix="use XGBoost's ranking metrics in backend.params.eval_metric (ndcg, map)")
    return MetricSet.from_names(names, task, "backend.metrics")  # type: ignore[arg-type]


def model_scores(predicted: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """What :class:`MetricSet` takes from ``Booster.predict``: probabilities for a classifier
    (``binary:logitraw`` margins through the sigmoid, ``multi:softmax`` classes one-hot)."""
    objective = str(params.get("objective", ""))
    if objective == "binary:logitraw":
        return 0.5 * (1.0 + np.tanh(predicted / 2.0))  # the sigmoid, without overflow
    if objective == "multi:softmax":
        classes = int(params.get("num_class", int(predicted.max()) + 1))
        return np.eye(classes)[predicted.astype(np.int64)]
    return predicted


def parse_eval(text: str) -> dict[str, float]:
    """``"[9]\\ttrain-logloss:0.1\\tval-logloss:0.2"`` → ``{"train/logloss": 0.1, "val/logloss": 0.2}``."""
    metrics = {}
    for item in text.split("\t")[1:]:
        name, _, value = item.rpartition(":")
        split, _, metric = name.partition("-")
        metrics[metric_name(split, metric)] = float(value)
    return metrics
