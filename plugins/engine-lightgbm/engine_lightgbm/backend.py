"""The ``lightgbm`` backend: one engine step is one ``Booster.update`` (one boosting round)."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
from engine_tabular import (
    TEST,
    TRAIN,
    VAL,
    MetricSet,
    RoundBackend,
    RoundRates,
    load_splits,
    metric_name,
    param_error,
    replay_mismatch_warning,
    sampling_warning,
    thread_counts,
)

from engine import EngineError, Run, warn_parallelism
from engine_lightgbm import booster as boosters
from engine_lightgbm import params as p
from engine_lightgbm.native_stderr import held_back
from engine_lightgbm.options import LightGBMOptions

_METRIC = ("metric", "metrics", "metric_types")
_NO_METRIC = ("None", "none", "null", "custom", "na")


class LightGBMBackend(RoundBackend):
    """Boosted trees with LightGBM, driven round by round by the engine loop."""

    extension = "txt"

    def __init__(self, options: LightGBMOptions):
        super().__init__(options)
        self.options: LightGBMOptions = options
        self.booster: lgb.Booster | None = None

    def setup(self, run: Run) -> None:
        self._run = run
        params = dict(self.options.params)
        p.check(params)
        warn_parallelism(run, thread_counts(params), where="backend.params")
        if p.first(params, p.SEED) is None:
            params["seed"] = run.seed
        if p.first(params, p.VERBOSITY) is None:
            params["verbosity"] = -1
        self.params = params
        self.sampling = p.sampling(params)
        self.metrics = self._metric_set()
        classification = str(p.first(params, p.OBJECTIVE, "")) in p.CLASSIFICATION
        self.splits = load_splits(self.options.data, run, classification=classification)
        p.check_labels(self.splits, params, self.options.data.label)
        self.rates = RoundRates(run, float(p.first(params, p.LEARNING_RATE, 0.1)))
        # a run that never evaluates leaves the validation set out of training, as lgb.train does
        self.attach_valid = run.spec.loop.eval_every is not None
        self.booster = self._build()
        strategy = run.components.get("strategy")
        if strategy is not None:  # the strategy trains each round (engine-distributed's dask)
            self.remote = strategy.lightgbm_rounds(self.splits.train)

    def _metric_set(self) -> MetricSet | None:
        names = self.options.metrics
        if not names:
            return None
        task = p.task(self.params)
        if task is None:
            raise EngineError(f"metrics {names} need a classification or regression objective, not "
                              f"{p.first(self.params, p.OBJECTIVE)!r}", where="backend.metrics",
                              fix="use LightGBM's ranking metrics in backend.params.metric (ndcg, map)")
        return MetricSet.from_names(names, task, "backend.metrics")  # type: ignore[arg-type]

    def _feval(self, predictions: Any, data: lgb.Dataset) -> list[tuple[str, float, bool]]:
        """``backend.metrics`` of the predictions LightGBM holds for ``data`` (no new prediction)."""
        assert self.metrics is not None
        values = self.metrics.compute(data.get_label(), predictions, data.get_weight())
        return [(name, value, True) for name, value in values.items()]

    def _build(self, model: str | None = None) -> lgb.Booster:
        assert self.splits is not None
        try:
            with held_back():
                valid = self.splits.valid if self.attach_valid else None
                return boosters.build(self.params, self.splits.train, valid, model=model)
        except lgb.basic.LightGBMError as exc:
            raise param_error(exc, self.options.params, library="lightgbm") from None


    def train_step(self, run: Run) -> None:
        assert self.booster is not None
        if self.rates.active:
            self.booster.reset_parameter({"learning_rate": self.rates.next(run)})
        if self.remote is not None:
            params = {**self.params, "learning_rate": self.rates.current} if self.rates.active else self.params
            rounds = self.booster.current_iteration()
            self.booster = self._build(self.remote.round(self.model_string() if rounds else None, params))
            return
        self.booster.update()


    def evaluate(self, run: Run) -> dict[str, float]:
        assert self.booster is not None
        if not self.attach_valid:  # asked for by a plugin although the loop never evaluates
            self.attach_valid = True
            self.booster = self._build(self.model_string())
        feval = self._feval if self.metrics else None
        results = list(self.booster.eval_train(feval)) if self.options.eval_train else []
        results += [result for result in self.booster.eval_valid(feval) if result[0] == VAL]
        return {metric_name(TRAIN if data == "training" else VAL, metric): float(value)
                for data, metric, value, *_ in results}

    def test(self, run: Run) -> dict[str, float]:
        """The ``test`` split's metrics (``test/<metric>``) of the final model, or none without a test split.

        The split is attached to the booster as one more evaluation set, so LightGBM's own
        metrics and ``backend.metrics`` are computed from one prediction of its rows."""
        assert self.booster is not None and self.splits is not None
        if self.splits.test is None:
            return {}
        with held_back():
            data = boosters.attach(self.booster, self.params, self.splits.test, TEST)
            results = self.booster.eval(data, TEST, self._feval if self.metrics else None)
        return {metric_name(TEST, metric): float(value) for _, metric, value, *_ in results}

    def input_example(self) -> Any:
        """Five training rows as the exported model takes them (a DataFrame with feature names)."""
        assert self.splits is not None
        return self.splits.train.features.head(5)

    def metric_names(self, run: Run) -> list[str] | None:
        """What :meth:`evaluate` reports, read from the untrained booster's evaluation (LightGBM
        names its metrics itself: ``ndcg@1``, ...; evaluating changes no state). None for a run
        that never evaluates, whose booster has no validation set attached."""
        assert self.booster is not None
        if not self.attach_valid:
            return None
        with held_back():
            results = list(self.booster.eval_train()) if self.options.eval_train else []
            results += self.booster.eval_valid()
        splits = [TRAIN, VAL] if self.options.eval_train else [VAL]
        own = [metric_name(split, name) for split in splits for name in (self.metrics.names if self.metrics else ())]
        names = [metric_name(TRAIN if data == "training" else VAL, metric) for data, metric, *_ in results]
        return [*names, *(name for name in own if name not in names)]

    def dry_run(self, run: Run) -> None:
        """Refuse a ``metric`` LightGBM does not know: it drops such a name without a word
        (its warning is below ``verbosity = -1``), so the run would report no metric at all."""
        requested = p.first(self.params, _METRIC)
        names = requested if isinstance(requested, list) else str(requested or "").split(",")
        names = [str(n).strip() for n in names if str(n).strip() and str(n).strip() not in _NO_METRIC]
        if names and self.attach_valid and not self.metric_names(run):
            raise EngineError(f"lightgbm knows none of the metrics {names}", where="backend.params.metric",
                              fix="use LightGBM's metric names, e.g. auc, binary_logloss, l2, ndcg")

    def model_string(self, rounds: int | None = None) -> str:
        """Every round (``num_iteration=-1``; the default stops at ``best_iteration``) or the first ``rounds``."""
        assert self.booster is not None
        return self.booster.model_to_string(num_iteration=-1 if rounds is None else rounds)

    def state_dict(self) -> dict[str, Any]:
        assert self.booster is not None
        return {"model": self.model_string().encode(), "rounds": self.booster.current_iteration(),
                "rates": list(self.rates.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        model, rounds = bytes(state["model"]).decode(), int(state["rounds"])
        self.rates.history = [float(r) for r in state["rates"]]
        if self.rates.history:
            self.rates.current = self.rates.history[-1]
        if self.sampling and self.options.exact_resume:
            self.booster = self._build()
            rates: list[float | None] = [*self.rates.history] or [None] * rounds
            for rate in rates:
                if rate is not None:
                    self.booster.reset_parameter({"learning_rate": rate})
                self.booster.update()
            if self.model_string() == model:
                return
            self._warn(replay_mismatch_warning("lightgbm"))
        elif self.sampling:
            self._warn(sampling_warning("lightgbm", self.sampling))
        self.booster = self._build(model)


    def model_bytes(self, rounds: int | None = None) -> bytes:
        """LightGBM's model text, with the feature names."""
        return self.model_string(rounds).encode()
