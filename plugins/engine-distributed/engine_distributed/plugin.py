"""Entry point of engine-distributed: registers ``ddp``, ``fsdp`` and ``dask`` by import path,
and adds ``engine run --nproc N`` (N local processes under torchrun).

Neither torch nor dask is imported here; each strategy loads its library when a spec selects it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from engine import ComponentRegistry, Spec, hookimpl
from engine_distributed.options import DaskOptions, DdpOptions, FsdpOptions

TORCH_STRATEGIES = ("ddp", "fsdp")
TORCH = "pip install 'engine-distributed[torch]'"
#: Backends the dask strategy can train, and the module each needs.
DASK_BACKENDS = {"xgboost": "xgboost", "lightgbm": "lightgbm"}


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("strategy", "ddp", "engine_distributed.ddp:DdpStrategy", options=DdpOptions,
                 description="DistributedDataParallel over torchrun's processes (gloo on CPU, nccl on CUDA)",
                 requires=("torch",), install=TORCH)
    registry.add("strategy", "fsdp", "engine_distributed.fsdp:FsdpStrategy", options=FsdpOptions,
                 description="FSDP2 (fully_shard) with sharded torch.distributed.checkpoint saves",
                 requires=("torch",), install=TORCH)
    registry.add("strategy", "dask", "engine_distributed.dask:DaskStrategy", options=DaskOptions,
                 description="XGBoost or LightGBM on a Dask cluster (local by default)",
                 requires=("dask", "distributed"), install="pip install 'engine-distributed[dask]'")


@hookimpl
def engine_configure_command(name: str, parser: argparse.ArgumentParser) -> None:
    if name == "run":
        parser.add_argument("--nproc", type=int, default=None, metavar="N",
                            help="train with N local processes through torchrun (needs a [strategy] "
                                 "and engine-distributed[torch])")
        parser.add_argument("--max-restarts", type=int, default=None, metavar="K",
                            help="with --nproc: when a worker dies, restart every worker up to K times "
                                 "(torchrun's elastic agent); each resumes from the newest checkpoint")


@hookimpl
def engine_command_main(name: str, args: argparse.Namespace) -> int | None:
    """``engine run --nproc N`` (N other than 1): relaunch the command under torchrun."""
    nproc, max_restarts = getattr(args, "nproc", None), getattr(args, "max_restarts", None)
    if name != "run":
        return None
    from engine_distributed import launch

    launch.check_max_restarts(nproc, max_restarts)
    if nproc is None:
        return None
    if nproc == 1 and not max_restarts:  # asked for: a ddp/fsdp run then trains as one process without a warning
        launch.one_process_requested = True
        return None
    return launch.relaunch(nproc, getattr(args, "argv", sys.argv[1:]), max_restarts=max_restarts or 0)


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
