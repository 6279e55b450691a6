"""Entry point of engine-torch: registers the ``torch`` backend by import path and the
``lr-find`` command (torch stays unimported)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine import ComponentRegistry, Spec, check_libraries, hookimpl, parallelism_problems
from engine.session import add_spec_arguments
from engine_torch.environment import torch_facts
from engine_torch.options import TorchOptions, check

if TYPE_CHECKING:
    from engine import CommandRegistry
    from engine.session import Session


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add("backend", "torch", "engine_torch.backend:TorchBackend", options=TorchOptions,
                 description="PyTorch model and datasets by import path; exact resume, safetensors export")


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    backend = spec.component("backend")
    if backend is None or not isinstance(backend.options, TorchOptions):
        return None
    missing = check_libraries(spec, TorchOptions, ("torch", "safetensors"),
                              install="pip install torch safetensors (see pytorch.org for your platform)")
    counts = {"threads": backend.options.threads, "num_workers": backend.options.num_workers}
    return ((missing or []) + parallelism_problems(counts, where=backend.path)
            + check(backend.options, backend.path)) or None


@hookimpl
def engine_environment() -> dict[str, Any] | None:
    """torch's CUDA and cuDNN build and the run's GPUs, for ``env.json`` (only when the run
    imported torch; CUDA is never initialised for it)."""
    facts = torch_facts()
    return {"torch": facts} if facts is not None else None


def configure_lr_find(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--min-lr", type=float, default=1e-7, metavar="LR", help="first learning rate (default 1e-7)")
    parser.add_argument("--max-lr", type=float, default=10.0, metavar="LR", help="last learning rate (default 10)")
    parser.add_argument("--steps", type=int, default=100, metavar="N",
                        help="optimizer steps of the sweep, one rate each (default 100)")
    parser.add_argument("--output", "-o", metavar="FILE.png", default=None,
                        help="where to write the plot (default: lr-find-<run.name>.png here)")


def lr_find(args: argparse.Namespace, session: Session) -> int:
    from engine_torch.lr_find_command import lr_find_command

    return lr_find_command(args, session)


@hookimpl
def engine_add_commands(commands: CommandRegistry) -> None:
    commands.add("lr-find", help="learning-rate range test of a torch spec: a plot and the --set line to use",
                 configure=configure_lr_find, handler=lr_find)
