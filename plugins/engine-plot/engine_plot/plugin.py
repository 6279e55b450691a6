"""Entry point of engine-plot: adds the ``plot`` command; matplotlib loads only when it runs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine import hookimpl

if TYPE_CHECKING:
    from engine import CommandRegistry
    from engine.session import Session


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", metavar="RUN_DIR", nargs="+",
                        help="run directories holding metrics.jsonl; a cross-validation's or a study's "
                             "shows each fold (fold-<k>/) or trial (trials/<n>/)")
    parser.add_argument("--metric", "-m", metavar="NAME", action="append", default=[], dest="metrics",
                        help="metric to plot, one subplot each (repeatable; default: every metric logged)")
    parser.add_argument("--output", "-o", metavar="FILE.png", default=None,
                        help="where to write the figure (default: curves.png in the first RUN_DIR)")


def handler(args: argparse.Namespace, session: Session) -> int:
    from engine_plot.command import plot_command

    return plot_command(args.runs, args.metrics, args.output)


@hookimpl
def engine_add_commands(commands: CommandRegistry) -> None:
    commands.add("plot", help="plot learning curves of runs from their metrics.jsonl as a PNG",
                 configure=configure, handler=handler)
