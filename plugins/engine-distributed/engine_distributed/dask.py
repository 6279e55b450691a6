"""The ``dask`` strategy: XGBoost and LightGBM rounds trained on a Dask cluster.

The engine's loop still drives the run round by round. Each step ships one boosting round
to the cluster (``xgboost.dask.train`` / ``lightgbm.dask`` with the current model as the
starting point) and brings the updated model back to this process, where evaluation,
checkpoints, early stopping and export work on it exactly as without Dask. The training
table is loaded here (engine-tabular) and partitioned over the workers once per run.
"""

from __future__ import annotations

import warnings
from typing import Any

from engine import EngineError, Run, hookimpl
from engine_distributed.options import DaskOptions

#: LightGBM parameters the dask strategy sets itself, or that LightGBM on Dask ignores.
_PER_CALL = ("num_iterations", "num_iteration", "n_iter", "num_tree", "num_trees", "num_round", "num_rounds",
             "nrounds", "num_boost_round", "n_estimators", "max_iter", "num_threads", "num_thread", "nthread",
             "nthreads", "n_jobs")


class DaskStrategy:
    """A Dask client for the run: a local cluster on 127.0.0.1, or ``scheduler``'s cluster."""

    def __init__(self, options: DaskOptions):
        self.options = options
        self.client: Any = None
        self.cluster: Any = None

    def setup(self, run: Run) -> None:
        from distributed import Client, LocalCluster

        o = self.options
        if o.scheduler:
            try:
                self.client = Client(o.scheduler, timeout="30s")
            except OSError as exc:
                raise EngineError(f"cannot reach the Dask scheduler at {o.scheduler!r}: {exc}",
                                  where="strategy.scheduler",
                                  fix="start it (dask scheduler), or leave scheduler empty for a local "
                                      "cluster") from None
        else:
            self.cluster = LocalCluster(n_workers=o.workers, threads_per_worker=o.threads_per_worker,
                                        processes=o.processes, host="127.0.0.1", dashboard_address=None)
            self.client = Client(self.cluster)

    def partitions(self) -> int:
        if self.options.partitions:
            return self.options.partitions
        return max(len(self.client.scheduler_info()["workers"]), 1)

    def frames(self, table: Any) -> tuple[Any, Any, Any]:
        """The table's features, label and weight as Dask collections, one partition per worker."""
        if table.group is not None:
            raise EngineError("ranking (a group column) is not supported with the dask strategy",
                              where="strategy", fix="train ranking models without [strategy]")
        import dask.dataframe as dd
        import pandas as pd

        n = self.partitions()
        features = dd.from_pandas(table.features.reset_index(drop=True), npartitions=n, sort=False)
        label = dd.from_pandas(pd.Series(table.label), npartitions=n, sort=False)
        weight = None if table.weight is None else dd.from_pandas(pd.Series(table.weight), npartitions=n, sort=False)
        return features.persist(), label.persist(), None if weight is None else weight.persist()

    def xgboost_rounds(self, table: Any) -> XGBoostRounds:
        return XGBoostRounds(self, table)

    def lightgbm_rounds(self, table: Any) -> LightGBMRounds:
        return LightGBMRounds(self, table)

    @hookimpl
    def on_run_end(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


class XGBoostRounds:
    """One XGBoost round at a time on the cluster, continuing the given booster."""

    def __init__(self, strategy: DaskStrategy, table: Any):
        import xgboost.dask as xgb_dask

        self.client = strategy.client
        x, y, w = strategy.frames(table)
        self.dtrain = xgb_dask.DaskDMatrix(self.client, x, y, weight=w, enable_categorical=bool(table.categorical))

    def round(self, booster: Any, params: dict[str, Any]) -> Any:
        import xgboost.dask as xgb_dask

        rounds = booster.num_boosted_rounds() if booster is not None else 0
        result = xgb_dask.train(self.client, params, self.dtrain, num_boost_round=1,
                                xgb_model=booster if rounds else None, verbose_eval=False)
        return result["booster"]


class LightGBMRounds:
    """One LightGBM round at a time on the cluster, continuing the given model text."""

    def __init__(self, strategy: DaskStrategy, table: Any):
        self.client = strategy.client
        self.x, self.y, self.w = strategy.frames(table)

    def round(self, model: str | None, params: dict[str, Any]) -> str:
        import lightgbm as lgb
        import lightgbm.dask as lgb_dask

        # rounds are counted by the loop; threads are the workers' own (LightGBM on Dask ignores them)
        settings = {k: v for k, v in params.items() if k not in _PER_CALL}
        estimator = lgb_dask.DaskLGBMRegressor(client=self.client, n_estimators=1, **settings)
        init = lgb.Booster(model_str=model) if model else None
        with warnings.catch_warnings():  # "Parameter n_jobs will be ignored": the workers' threads are theirs
            warnings.filterwarnings("ignore", message="Parameter .* will be ignored", category=UserWarning)
            estimator.fit(self.x, self.y, sample_weight=self.w, init_model=init)
        text: str = estimator.booster_.model_to_string(num_iteration=-1)
        return text
