"""Templates of ``engine new-plugin NAME --kind command``: an ``engine NAME SPEC`` sub-command."""

PLUGIN = '''\
"""Entry point of the ${dist} plugin: adds `engine ${name}`. Keep it light, it is imported at
every `engine` start: the command's work is imported by its handler only."""

from __future__ import annotations

import argparse

import engine
from engine.session import Session, add_spec_arguments


def configure(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)  # SPEC and --set, as `engine run` reads them


def handler(args: argparse.Namespace, session: Session) -> int:
    from ${package}.command import ${function}

    return ${function}(args, session)


@engine.hookimpl
def engine_add_commands(commands: engine.CommandRegistry) -> None:
    commands.add("${name}", help="describe a spec (edit me)", configure=configure, handler=handler)
'''

OPTIONS = None

IMPLEMENTATION = {"command.py": '''\
"""`engine ${name} SPEC`: prints what a spec would train. Replace the body with your command's work."""

from __future__ import annotations

import argparse

import engine
from engine import session as sessions


def ${function}(args: argparse.Namespace, session: sessions.Session) -> int:
    """Load the spec with the plugins this command was started with (`-p`); a mistake in it is an
    `engine.EngineError` the CLI prints as one line, with exit status 2."""
    spec = sessions.load(args.spec, args.set, session=session)
    print(f"{spec.run.name}: backend {spec.backend.name}")
    return engine.EXIT_OK
'''}

TEST = '''\
"""Tests of `engine ${name}` through the command line, as a user runs it (engine.testing.cli)."""

from engine.testing import cli


def test_the_command_describes_a_spec(tmp_path):
    (tmp_path / "spec.toml").write_text('[run]\\nname = "demo"\\n[loop]\\nmax_steps = 4\\n'
                                        '[backend]\\nuse = "testing"\\n')
    result = cli("${name}", "spec.toml", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out == "demo: backend testing\\n"


def test_a_missing_spec_is_one_line(tmp_path):
    result = cli("${name}", "missing.toml", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err, result
    assert len(result.error_lines) == 1 and "missing.toml" in result.error_lines[0]


def test_engine_help_lists_it(tmp_path):
    assert "${name}" in cli("--help", cwd=tmp_path).out
'''

USAGE = '''\
    engine ${name} spec.toml
'''
