"""The ``catboost`` backend: one engine step is one CatBoost iteration (one boosting round).

Each round is ``CatBoost(params, iterations=1).fit(pool, init_model=model)``: CatBoost
continues the model in memory exactly as one ``fit`` of all the rounds would (its random
numbers follow the iteration, not the call), so a run is bit-identical to
``CatBoostClassifier.fit`` with the same iterations. A model loaded from a file is not
continued exactly (the file keeps only the quantization borders its trees use, and CatBoost
continues with the init model's borders), so a resume replays the checkpoint's rounds from the
seed and checks that they reproduce its model byte for byte. The training pool is quantized
once, so a round does not pay for it again.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoost, CatBoostError, Pool
from catboost.utils import eval_metric
from engine_tabular import (
    TEST,
    TRAIN,
    VAL,
    MetricSet,
    RoundBackend,
    RoundRates,
    Table,
    library_message,
    load_splits,
    metric_name,
    param_error,
    replay_mismatch_warning,
    split_metrics,
    thread_counts,
)

from engine import EngineError, Run, TrainingError, warn_parallelism
from engine_catboost import params as p
from engine_catboost.options import CatBoostOptions

#: Parameters that choose the borders of the quantized pool (given to ``Pool.quantize``, not to ``fit``).
QUANTIZATION = ("border_count", "max_bin", "feature_border_type", "per_float_feature_quantization", "nan_mode",
                "input_borders")
#: The rounds CatBoost trains without ``iterations``: its learning rate is picked for them.
DEFAULT_ROUNDS = 1000


def rejected(exc: CatBoostError, params: Mapping[str, Any]) -> EngineError:
    """CatBoost's complaint about ``params`` as one line at the key it names (for an unknown
    name, ``Key 'AUCX' not found in enum``, the key holding that value), without its source path."""
    message = re.sub(r"^\S+\.(cpp|h):\d+:\s*", "", library_message(exc))
    unknown = re.search(r"Key '([^']+)' not found", message)
    if unknown:
        holding = {k: v for k, v in params.items()
                   if unknown.group(1) in (map(str, v) if isinstance(v, list) else [str(v).partition(":")[0]])}
        params = holding or params
    return param_error(CatBoostError(message), params, library="catboost")


def _known_names(params: Mapping[str, Any]) -> None:
    """Refuse a loss or metric name CatBoost does not know, before the task is read from it."""
    for name in {str(params.get("loss_function", "RMSE")), *p.metric_list(dict(params))}:
        try:
            eval_metric([0.0, 1.0], [0.0, 0.0], name)
        except CatBoostError as exc:
            if "not found in enum" in str(exc) or "is not supported" in str(exc):
                raise rejected(exc, params) from None
            # a known name this check cannot compute (a ranking metric without groups) is fine


class _AfterOneRound:
    """A ``fit`` callback that stops after the first iteration (to read the parameters CatBoost picks)."""

    def after_iteration(self, info: Any) -> bool:
        return False


def catboost_features(table: Table) -> pd.DataFrame:
    """The features as CatBoost takes them: categorical columns as strings (CatBoost takes no
    NaN there, so a missing category is the category ``"nan"``)."""
    features = table.features
    categorical = table.categorical
    if categorical:
        features = features.copy()
        for column in categorical:
            values = features[column].astype(object)
            features[column] = values.where(values.notna(), "nan").astype(str)
    return features


def to_pool(table: Table, where: str) -> Pool:
    """A Pool with feature names, weights, group ids and categorical columns."""
    try:
        return Pool(catboost_features(table), label=table.label, weight=table.weight, group_id=table.group,
                    cat_features=table.categorical or None)
    except (CatBoostError, ValueError, TypeError) as exc:
        raise EngineError(f"catboost cannot use this data: {library_message(exc)}", where=where,
                          fix="check the column types and, for ranking, that rows are sorted by group") from None


class CatBoostBackend(RoundBackend):
    """Boosted trees with CatBoost, driven round by round by the engine loop."""

    extension = "cbm"

    def __init__(self, options: CatBoostOptions):
        super().__init__(options)
        self.options: CatBoostOptions = options
        self.booster: CatBoost | None = None
        self.metrics: MetricSet | None = None

    # ------------------------------------------------------------------ setup

    def setup(self, run: Run) -> None:
        self._run = run
        given = dict(self.options.params)
        p.check(given)
        warn_parallelism(run, thread_counts(given), where="backend.params")
        params = {k: v for k, v in given.items() if k not in QUANTIZATION}
        if p.first(params, p.SEED) is None:
            params["random_seed"] = run.seed
        if p.first(params, p.VERBOSITY) is None:
            params["logging_level"] = "Silent"
        params["allow_writing_files"] = False  # no catboost_info/ in the working directory
        self.params = params
        _known_names(params)
        self.task = p.task_of(params)
        self.metrics = self._metric_set()
        self.splits = load_splits(self.options.data, run, classification=self.task in ("binary", "multiclass"))
        self.train_pool = to_pool(self.splits.train, "backend.data.train")
        try:
            self.train_pool.quantize(**{k: v for k, v in given.items() if k in QUANTIZATION})
        except CatBoostError as exc:
            raise rejected(exc, given) from None
        #: What each split evaluates: its pool (raw features) and its table (labels, weights).
        self.evaluated: dict[str, tuple[Pool, Table]] = {VAL: (to_pool(self.splits.valid, "backend.data.valid"),
                                                               self.splits.valid)}
        if self.splits.test is not None:
            self.evaluated[TEST] = (to_pool(self.splits.test, "backend.data.test"), self.splits.test)
        if self.options.eval_train:
            self.evaluated[TRAIN] = (to_pool(self.splits.train, "backend.data.train"), self.splits.train)
        rate = p.first(params, p.LEARNING_RATE)
        if rate is None:  # CatBoost picks it from the rounds and the data: read it from one round
            rate = self._first_round(run).get_all_params()["learning_rate"]
        else:
            self._first_round(run)  # checks every parameter now, not at the first step
        self.rates = RoundRates(run, float(rate))
        self.booster = None

    def _metric_set(self) -> MetricSet | None:
        names = self.options.metrics
        if not names:
            return None
        if self.task is None:
            raise EngineError(f"metrics {names} need a classification or regression loss, not "
                              f"{self.params.get('loss_function')!r}", where="backend.metrics",
                              fix="use CatBoost's ranking metrics in backend.params.eval_metric (NDCG, PFound)")
        return MetricSet.from_names(names, self.task, "backend.metrics")

    def _first_round(self, run: Run) -> CatBoost:
        """One round of the whole fit (``iterations`` = the run's rounds), thrown away."""
        rounds = run.step_limit if run.step_limit != float("inf") else DEFAULT_ROUNDS
        model = CatBoost({**self.params, "iterations": int(rounds)})
        try:
            model.fit(self.train_pool, callbacks=[_AfterOneRound()])
        except CatBoostError as exc:
            raise rejected(exc, self.options.params) from None
        return model

    # ------------------------------------------------------------------ training

    def train_step(self, run: Run) -> None:
        rate = self.rates.next(run) if self.rates.active else self.rates.base
        try:
            self.booster = self._round(self.booster, rate)
        except CatBoostError as exc:
            raise TrainingError(f"catboost failed in round {run.step + 1}: {library_message(exc)}",
                                fix="check backend.params and the data against the catboost documentation") from None

    def _round(self, model: CatBoost | None, rate: float) -> CatBoost:
        """``model`` with one more round, its metadata kept to what one ``fit`` writes."""
        params = {k: v for k, v in self.params.items() if k not in p.LEARNING_RATE}
        trained = CatBoost({**params, "iterations": 1, "learning_rate": rate})
        trained.fit(self.train_pool, init_model=model)
        metadata = trained.get_metadata()
        # every continued fit nests the init model's metadata (``initModel:...``: quadratic in the
        # rounds) and stamps a time and a random id: the model would differ run to run
        for key in list(metadata.keys()):
            if key.startswith("initModel:") or key in ("train_finish_time", "model_guid"):
                del metadata[key]
        return trained

    def evaluate(self, run: Run) -> dict[str, float]:
        splits = [TRAIN, VAL] if self.options.eval_train else [VAL]
        return {name: value for split in splits for name, value in self._scores(split).items()}

    def test(self, run: Run) -> dict[str, float]:
        """The ``test`` split's metrics of the final model, or none without a test split."""
        return self._scores(TEST) if TEST in self.evaluated and self.booster is not None else {}

    def _scores(self, split: str) -> dict[str, float]:
        """CatBoost's metrics and ``backend.metrics`` of ``split``, from one prediction of its rows."""
        assert self.booster is not None
        pool, table = self.evaluated[split]
        raw = np.asarray(self.booster.predict(pool, prediction_type="RawFormulaVal"), dtype=np.float64)
        label, weight = table.label, table.weight
        approx = raw.tolist()  # one row per document (a list of class scores for a multi-class loss)
        group = None if table.group is None else table.group.tolist()
        results = {}
        for name in p.metric_list(self.params):
            try:
                value = eval_metric(label.tolist(), approx, name, weight=None if weight is None else weight.tolist(),
                                    group_id=group)
            except CatBoostError as exc:
                raise TrainingError(f"catboost could not compute {name} on the {split} rows: {library_message(exc)}",
                                    fix="check backend.params.eval_metric and custom_metric") from None
            results[metric_name(split, name)] = float(value[0])
        results.update(split_metrics(self.metrics, split, label, self._model_scores(raw), weight))
        return results

    def _model_scores(self, raw: np.ndarray) -> np.ndarray:
        """What :class:`MetricSet` takes: probabilities for a classifier, predictions for a regressor."""
        if self.task == "binary":
            return 1.0 / (1.0 + np.exp(-raw))
        if self.task == "multiclass":
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return np.exp(raw) if p.loss(self.params) in p.EXPONENT else raw

    def metric_names(self, run: Run) -> list[str]:
        """What :meth:`evaluate` reports: CatBoost's metric names, then ``backend.metrics``."""
        splits = [TRAIN, VAL] if self.options.eval_train else [VAL]
        own = list(self.metrics.names) if self.metrics else []
        return [metric_name(split, name) for split in splits for name in [*p.metric_list(self.params), *own]]

    def input_example(self) -> Any:
        """Five training rows as the exported model takes them (a DataFrame with feature names,
        categorical columns as strings)."""
        assert self.splits is not None
        return catboost_features(self.splits.train.take(range(min(5, len(self.splits.train)))))

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        rounds = 0 if self.booster is None else int(self.booster.tree_count_)
        return {"model": self.model_bytes() if rounds else b"", "rounds": rounds, "rates": list(self.rates.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rates.history = [float(r) for r in state["rates"]]
        if self.rates.history:
            self.rates.current = self.rates.history[-1]
        model, rounds = bytes(state["model"]), int(state["rounds"])
        replayed = None
        for index in range(rounds):
            rate = self.rates.history[index] if index < len(self.rates.history) else self.rates.base
            replayed = self._round(replayed, rate)
        if replayed is None or self._bytes(replayed) == model:
            self.booster = replayed
            return
        self._warn(replay_mismatch_warning("catboost"))
        self.booster = CatBoost().load_model(blob=model)

    # ------------------------------------------------------------------ export

    def model_bytes(self, rounds: int | None = None) -> bytes:
        """The model in CatBoost's native format (``.cbm``), with every round or its first ``rounds``."""
        assert self.booster is not None
        model = self.booster
        if rounds is not None and rounds < model.tree_count_:
            model = model.copy()
            model.shrink(ntree_end=rounds)
        return self._bytes(model)

    @staticmethod
    def _bytes(model: CatBoost) -> bytes:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "model.cbm"
            model.save_model(str(path))
            return path.read_bytes()
