"""engine-distributed: the ``ddp`` and ``fsdp`` strategies (torch, launched by torchrun) and
``dask`` (XGBoost and LightGBM on a Dask cluster). Nothing heavy is imported here.

This package's face (``__all__``) is for strategies built on torchrun's processes, as
engine-deepspeed's is: subclass :class:`TorchProcesses` (joining the group, the "runs as one
process" warning, ranks and flag agreement, device placement, reductions, leaving) with an
options class that extends :class:`TorchDistributedOptions`; :func:`gather_to_main` brings
every process's value to rank 0. Each name imports its module on first use (torch only then).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine_distributed.options import TorchDistributedOptions
    from engine_distributed.process_group import TorchProcesses, gather_to_main

__version__ = "0.1.0"

__all__ = ["TorchDistributedOptions", "TorchProcesses", "gather_to_main"]

#: Face names imported on first use (PEP 562), so importing ``engine_distributed`` does not import torch.
_HOMES = {"TorchDistributedOptions": "engine_distributed.options",
          "TorchProcesses": "engine_distributed.process_group",
          "gather_to_main": "engine_distributed.process_group"}


def __getattr__(name: str) -> Any:
    """Import a face name's module on first use and keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine_distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
