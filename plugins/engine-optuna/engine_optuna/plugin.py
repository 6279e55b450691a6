"""Entry point of engine-optuna: the ``[tune]`` section, its checks and ``engine tune``.

Kept light: Optuna is imported only by the command handler and trial code.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine import hookimpl
from engine.session import add_spec_arguments
from engine_optuna.options import TuneOptions

if TYPE_CHECKING:
    from engine import CommandRegistry, ComponentRegistry, Spec
    from engine.session import Session


def configure(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--trials", type=int, metavar="N", help="trials to finish, overriding tune.n_trials")
    parser.add_argument("--timeout", metavar="S", help='start no trial after this long: seconds or "30 min"')
    parser.add_argument("--workers", type=int, metavar="N", help="worker processes on this machine")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage: RDB URL (postgresql://..., sqlite:///...) or journal file path")
    parser.add_argument("--study", metavar="NAME", help="study name in the storage (default: run.name)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def handler(args: argparse.Namespace, session: Session) -> int:
    from engine_optuna.command import tune_command

    return tune_command(args, session)


@hookimpl
def engine_register_components(registry: ComponentRegistry) -> None:
    registry.add_section("tune", TuneOptions, description="hyperparameter search with Optuna (engine tune)")


@hookimpl
def engine_add_commands(commands: CommandRegistry) -> None:
    commands.add("tune", help="search hyperparameters of a spec with Optuna ([tune] section)",
                 configure=configure, handler=handler)


@hookimpl
def engine_check(spec: Spec) -> list[str] | None:
    from engine_optuna.check import tune_problems

    return tune_problems(spec) or None
