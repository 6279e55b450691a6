"""The ``engine`` command line."""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

from engine._core import __version__
from engine._core.errors import EXIT_USAGE, EngineError, SpecError, UserCodeError
from engine._core.providers import provider

if TYPE_CHECKING:
    from engine._core.cli.commands import Command


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        command = _INVALID_COMMAND.match(message)
        provided = provider(f"command.{command.group(1)}") if command else None
        if command and provided is not None:
            message = f"unknown command {command.group(1)!r} — {provided.hint()}"
        print(f"engine: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


_INVALID_COMMAND = re.compile(r"argument COMMAND: invalid choice: '([^']*)'")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; an option that a plugin not loaded here would add is named
    with that plugin's install command (read from ``engine.provides`` metadata)."""
    args, unknown = parser.parse_known_args(argv)
    for arg in unknown:
        option = arg.partition("=")[0].removeprefix("--") if arg.startswith("--") else ""
        provided = provider(f"option.{args.command}.{option}") if option else None
        if provided is not None:
            raise EngineError(f"unrecognized option --{option}", where=f"engine {args.command}",
                              fix=provided.hint())
    if unknown:
        command = _command_parser(parser, args.command)
        suggestion = _suggestion(command or parser, unknown)
        if command is not None and suggestion:
            command.error(f"unrecognized arguments: {' '.join(unknown)}{suggestion}")
        parser.error(f"unrecognized arguments: {' '.join(unknown)}{suggestion}")
    return args


def _command_parser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser | None:
    """The subparser of ``command``, if there is one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]  # type: ignore[no-any-return]
    return None


def _suggestion(parser: argparse.ArgumentParser, unknown: Sequence[str]) -> str:
    """`` — did you mean --resume?`` for the first unknown option close to one ``parser`` has."""
    known = [option for option in parser._option_string_actions if option.startswith("--")]
    for arg in unknown:
        if arg.startswith("--"):
            close = difflib.get_close_matches(arg.partition("=")[0], known, n=1)
            if close:
                return f" — did you mean {close[0]}?"
    return ""


def _plugin_args(argv: Sequence[str]) -> list[str]:
    """``-p`` values, read before the full parser exists (plugins add commands to it)."""
    found = []
    for index, arg in enumerate(argv):
        if arg == "-p" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif arg.startswith("-p") and len(arg) > 2:
            found.append(arg[2:])
    return found


def build_parser(commands: Mapping[str, Command],
                 configure: Callable[..., object] | None = None) -> argparse.ArgumentParser:
    """The ``engine`` parser; ``configure`` is the ``engine_configure_command`` hook."""
    # no abbreviations: a typo (--resum) is an error with a suggestion, never another option
    parser = _Parser(prog="engine", description="A plugin-based training engine.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"engine {__version__}")
    parser.add_argument("-p", metavar="NAME", action="append", default=[], dest="plugin_args",
                        help="load plugin module NAME, or block plugin NAME with no:NAME (repeatable)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, command in sorted(commands.items()):
        sub_parser = sub.add_parser(name, help=command.help, description=command.help, allow_abbrev=False)
        command.configure(sub_parser)
        if configure is not None:
            configure(name=name, parser=sub_parser)
        sub_parser.add_argument("-p", metavar="NAME", action="append", default=[], dest="plugin_args_after",
                                help="as before the command: load or block (no:NAME) a plugin")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    from engine._core.cli.commands import collect
    from engine._core.cli.session import Session

    argv = list(sys.argv[1:] if argv is None else argv)
    if os.getcwd() not in sys.path:  # import paths like "examples.digits:MLP" resolve from here
        sys.path.insert(0, os.getcwd())
    try:
        session = Session(_plugin_args(argv))
        commands = collect(session.plugins).commands
        parser = build_parser(commands, session.plugins.hook.engine_configure_command)
        args = parse(parser, argv)
        args.argv = argv  # the command line as given, for commands that re-launch themselves
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        taken = session.plugins.hook.engine_command_main(name=args.command, args=args)
        if taken is not None:
            return int(taken)
        return int(commands[args.command].handler(args, session))
    except EngineError as exc:
        report(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("engine: interrupted", file=sys.stderr)
        return 130


def report(exc: EngineError) -> None:
    """Print an engine error: one line per problem, the user's traceback when it is theirs.

    Secrets (see :mod:`engine._core.redact`) are hidden, also in the traceback and library messages.
    """
    from engine._core.redact import redact_text

    if isinstance(exc, UserCodeError) and exc.user_traceback:
        print("---- traceback from your code ----", file=sys.stderr)
        print(redact_text(exc.user_traceback.rstrip()), file=sys.stderr)
        print("----------------------------------", file=sys.stderr)
    for line in error_lines(exc):
        print(f"engine: error: {redact_text(line)}", file=sys.stderr)


def error_lines(exc: EngineError) -> list[str]:
    """One line per problem of a spec error; one line for any other error.

    A message of several lines (a library's text with a native stack trace) keeps its first
    non-empty line; the place and the fix stay on that line.
    """
    if isinstance(exc, SpecError) or type(exc).__str__ is not EngineError.__str__:
        return [line for line in str(exc).splitlines() if line.strip()]
    first = next((line.strip() for line in str(exc.message).splitlines() if line.strip()), type(exc).__name__)
    return [str(EngineError(first, where=exc.where, fix=exc.fix))]


def console_script() -> NoReturn:
    from engine._core.collective import Processes
    from engine._core.redact import redact_process_output

    redact_process_output()  # library warnings and log lines too, not only engine's own
    code = main()
    if Processes.from_environment().world_size == 1:
        # The interpreter's last garbage collections walk every object the libraries made: half
        # a second with XGBoost and scikit-learn loaded, on every command's way out. Frozen, they
        # are skipped; what is left is still freed by reference counting, and atexit handlers and
        # the flushing of stdout and stderr run as before. A worker of a torchrun group keeps the
        # slow exit: torchrun names the first worker to fail by whole seconds, then by rank, so a
        # worker ending because its peer was killed must not be found dead as early as that peer.
        gc.freeze()
    raise SystemExit(code)
