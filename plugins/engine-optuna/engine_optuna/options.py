"""The ``[tune]`` section: what to optimise, over which values, and how."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from engine import Duration, NonNegativeInt, PositiveInt

SamplerName = Literal["tpe", "random", "cmaes", "gp", "nsga2", "grid", "qmc"]
PrunerName = Literal["none", "median", "percentile", "successive-halving", "hyperband", "wilcoxon"]

#: How many trials a study runs when neither the spec nor ``--trials`` says.
DEFAULT_TRIALS = 20


@attrs.define
class TuneOptions:
    """[tune]: a hyperparameter search over spec paths with Optuna (``engine tune``)."""

    metric: Any = "val/loss"
    """Evaluation metric to optimise; a list of metrics makes the study multi-objective."""
    direction: Any = "auto"
    """``minimize``, ``maximize`` or ``auto`` (``maximize`` for accuracy-like names); a list for many metrics."""
    value: Literal["best", "last"] = "best"
    """A trial's value: its best evaluation in the metric's direction (with several metrics,
    the evaluation at which the first is best), or its last. With ``[cv]``, the mean over the
    folds of each fold's best or last."""
    space: dict[str, Any] = attrs.field(factory=dict)
    """Spec path -> ``{ float = [low, high] }``, ``{ int = [low, high] }`` (both with optional
    ``log = true`` or ``step = ...``) or ``{ categorical = [a, b, ...] }``."""
    n_trials: PositiveInt | None = None
    """Trials to finish (complete or pruned) across all workers; default 20 unless ``timeout`` is set."""
    timeout: Duration | None = None
    """Stop starting new trials after this long, e.g. ``"30 min"``."""
    sampler: SamplerName = "tpe"
    """How values are chosen; ``nsga2`` suits many metrics, ``grid`` tries every combination."""
    sampler_options: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments of the Optuna sampler; ``seed`` defaults to ``run.seed``."""
    pruner: PrunerName = "none"
    """How unpromising trials are stopped early, at each evaluation (single metric only)."""
    pruner_options: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments of the Optuna pruner, e.g. ``{ n_warmup_steps = 50 }``. Its resources
    (``n_warmup_steps``, ``interval_steps``, ``min_resource``, ``max_resource``,
    ``n_startup_steps``) are steps, or ``"N epochs"`` (all in one unit): trials then report
    at their completed epochs, so a tuned batch size keeps their meaning."""
    storage: str = ""
    """Optuna storage: an RDB URL (``postgresql://...``, ``sqlite:///...``) or a journal file
    path. Default: ``study.db`` in the run directory (SQLite in write-ahead-log mode, shared by
    the workers of one machine)."""
    study: str = ""
    """Study name in the storage; default ``run.name``. An existing study is resumed."""
    workers: PositiveInt = 1
    """Worker processes started on this machine, all on one study."""
    devices: Any = "auto"
    """GPUs for the workers ``workers`` starts: worker i sees device i mod G alone
    (``CUDA_VISIBLE_DEVICES``). ``"auto"``: the parent's ``CUDA_VISIBLE_DEVICES``, else the
    GPUs ``nvidia-smi -L`` lists, else none; a list such as ``["0", "1"]``; ``"none"``:
    every worker sees what the command sees."""
    threads: Any = "auto"
    """CPU threads of each worker's libraries (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
    ``MKL_NUM_THREADS`` in its environment). ``"auto"``: with several workers, the machine's
    cores shared out among them (at least one each), keeping a variable already set; one
    worker keeps the libraries' defaults. A number sets it for every worker."""
    retries: NonNegativeInt = 0
    """Run a failed trial's values again this many times (a crash, a killed worker)."""
    checkpoints: bool = False
    """Let trials write checkpoints as their spec says. Off by default: a trial is never
    resumed (a killed worker's trial fails, and ``retries`` runs its values again from the
    start), so its checkpoints only cost time; its models are exported either way."""
    export: Literal["improving", "all"] = "improving"
    """Which trials write their models (``model/final``, ``model/best``) and evaluate their
    test split: ``"improving"``, a trial whose value beats every trial its worker finished
    before it (so the study's best trial always has its models, and most trials skip the
    cost), or ``"all"``. With several metrics or ``[cv]``, every trial does. A best model a
    backend writes during training (torch) is written either way."""
    heartbeat: PositiveInt = 10
    """Seconds between a worker's heartbeats (RDB storages); a trial silent for twice as long
    is marked failed, so a killed worker never leaves it running."""

    def monitored_metrics(self) -> dict[str, str]:
        """The metrics the study optimises, checked against the backend's before any trial
        (``engine check`` and ``engine tune``)."""
        if isinstance(self.metric, str):
            return {"tune.metric": self.metric}
        metrics = self.metric if isinstance(self.metric, list) else []
        return {f"tune.metric[{i}]": m for i, m in enumerate(metrics) if isinstance(m, str)}
