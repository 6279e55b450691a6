"""Entry point of engine-distributed: registers ``ddp``, ``fsdp`` and ``dask`` by import path.

Neither torch nor dask is imported here; each strategy loads its library when a spec selects it.
"""

from __future__ import annotations

import importlib.util

from engine import ComponentRegistry, Spec, hookimpl
from engine_distributed.options import DaskOptions, DdpOptions, FsdpOptions

TORCH_STRATEGIES = ("ddp", "fsdp")
#: Backends the dask strategy can train, and the module each needs.
DASK_BACKENDS = {"xgboost": "xgboost", "lightgbm": "lightgbm"}


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("strategy", "ddp", "engine_distributed.ddp:DdpStrategy", options=DdpOptions,
                 description="DistributedDataParallel over torchrun's processes (gloo on CPU, nccl on CUDA)")
    registry.add("strategy", "fsdp", "engine_distributed.fsdp:FsdpStrategy", options=FsdpOptions,
                 description="FSDP2 (fully_shard) with sharded torch.distributed.checkpoint saves")
    registry.add("strategy", "dask", "engine_distributed.dask:DaskStrategy", options=DaskOptions,
                 description="XGBoost or LightGBM on a Dask cluster (local by default)")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    strategy, backend = spec.component("strategy"), spec.component("backend")
    if strategy is None or backend is None:
        return None
    name, trained = strategy.name, backend.name
    problems = []
    if name in TORCH_STRATEGIES:
        if trained != "torch":
            problems.append(f'strategy: {name!r} trains the torch backend, not {trained!r} — use '
                            f'[strategy] use = "dask" for xgboost or lightgbm')
        if not _installed("torch"):
            problems.append(f"strategy: {name!r} needs torch, which is not installed — "
                            "pip install 'engine-distributed[torch]'")
    elif name == "dask":
        if trained not in DASK_BACKENDS:
            problems.append(f'strategy: "dask" trains xgboost or lightgbm, not {trained!r} — use '
                            f'[strategy] use = "ddp" or "fsdp" for torch')
        missing = [m for m in ("dask", "distributed", "pandas") if not _installed(m)]
        if missing:
            problems.append(f'strategy: "dask" needs {", ".join(missing)}, not installed — '
                            "pip install 'engine-distributed[dask]'")
    return problems or None


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
