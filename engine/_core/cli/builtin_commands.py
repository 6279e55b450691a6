"""Built-in commands: run, check, schema, plugins, hooks, checkpoints, runs, env."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine._core.cli.commands import CommandRegistry, add_spec_arguments, collect
from engine._core.errors import EXIT_OK, EngineError
from engine._core.hookspecs import hookimpl
from engine._core.status import RunStatus

if TYPE_CHECKING:
    from engine._core.cli.session import Session
    from engine._core.spec.model import Spec


def _configure_run(parser: argparse.ArgumentParser) -> None:
    add_spec_arguments(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue the run from its newest committed checkpoint, or start it when "
                             "there is none: the one command for every attempt of a requeued job")
    parser.add_argument("--allow-changes", action="store_true",
                        help="with --resume: accept spec changes to the data order or numerics "
                             "(seed, batch size, precision, accumulation)")
    parser.add_argument("--run-dir", metavar="DIR", help="run directory (default: <run.dir>/<run.name>)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors and warnings")
    output.add_argument("--plain", action="store_true", help="periodic lines instead of a progress bar")


def _load(args: argparse.Namespace, session: Session) -> Spec:
    from engine import session as sessions

    return sessions.load(args.spec, args.set, session=session)


def run_command(args: argparse.Namespace, session: Session) -> int:
    from engine import session as sessions
    from engine._core.cli.main import report

    spec = _load(args, session)
    console = "quiet" if args.quiet else "plain" if args.plain else "auto"
    resume, run_dir = _attempt(args, spec)
    result = sessions.run(spec, resume=resume, allow_changes=args.allow_changes, run_dir=run_dir,
                          console=console)
    if result.error is not None and result.status == RunStatus.FAILED:
        report(result.error)
    return result.exit_code


def _attempt(args: argparse.Namespace, spec: Spec) -> tuple[bool, str | None]:
    """``--resume`` and ``--run-dir`` of this attempt. A group torchrun restarted
    (``--max-restarts``) resumes the directory of its first attempt: the one given, the newest
    run of the spec's name under ``--resume``, else ``<run.dir>/<run.name>`` (where the
    processes of a multi-process run train) or, for one process, the newest run of the name."""
    from engine._core import elastic
    from engine._core.collective import Processes
    from engine._core.rundir import run_dir_for

    if elastic.restart_count() == 0:
        return args.resume, args.run_dir
    if args.resume or args.run_dir:
        return True, args.run_dir
    if Processes.from_environment().world_size > 1:
        return True, str(run_dir_for(spec))
    return True, None


def check_command(args: argparse.Namespace, session: Session) -> int:
    """Everything a run does before its first step (structure, components, strategy, model,
    data, monitored metrics, one batch), then give it back: nothing trained, nothing written."""
    from engine import session as sessions
    from engine._core.spec.toml_text import dump_toml, redact

    spec = _load(args, session)
    sessions.check(spec)
    sys.stdout.write(dump_toml(redact(spec.raw)))
    print(f"# {spec.source}: OK — backend {spec.backend.name!r}, run directory "
          f"{Path(spec.run.dir) / spec.run.name}", file=sys.stderr)
    return EXIT_OK


def schema_command(args: argparse.Namespace, session: Session) -> int:
    from engine._core.spec.schema import spec_schema

    text = json.dumps(spec_schema(session.plugins.registry), indent=2, default=str)
    if args.output:
        Path(args.output).write_text(text + "\n")
    else:
        print(text)
    return EXIT_OK


def plugins_command(args: argparse.Namespace, session: Session) -> int:
    rows = session.plugins.describe({c.name: c.plugin for c in collect(session.plugins).commands.values()})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        print(f"{row['name']}  ({row['origin']})")
        if row["components"]:
            print(f"    provides: {', '.join(row['components'])}")
        hooks = [h for h in row["hooks"] if not h.startswith("engine_")]
        if hooks:
            print(f"    events:   {', '.join(hooks)}")
        for line in row["missing"]:
            print(f"    missing:  {line}")
    return EXIT_OK


def hooks_command(args: argparse.Namespace, session: Session) -> int:
    from engine._core import hookspecs

    for name, function in hookspecs._all_specs().items():
        doc = (function.__doc__ or "").strip().splitlines()[0]
        print(f"{name}: {doc}")
    return EXIT_OK


def checkpoints_command(args: argparse.Namespace, session: Session) -> int:
    """List a run's committed checkpoints (each fold's of a cross-validation, each trial's of a
    study), reading its spec as data: an inspection imports none of the run's code (not its
    ``[run] plugins`` modules), only the installed storage plugin."""
    import attrs

    from engine._core.checkpoint.manager import CheckpointManager
    from engine._core.run_tree import run_directories as runs_in
    from engine._core.rundir import SPEC_FILE
    from engine._core.spec.load import read_raw, structure_storage

    target = Path(args.target)
    runs: list[tuple[Path, Path | None]] = []  # (spec, run directory: None for the spec's own)
    if target.is_dir():
        runs = [(run_dir / SPEC_FILE, run_dir) for run_dir in runs_in(target)]
    elif target.exists():
        run = structure_storage(read_raw(target), session.plugins.registry)[0]
        parent = Path(run.dir) / run.name  # a cross-validation's or a study's folder holds no spec
        held = runs_in(parent) if parent.is_dir() and not (parent / SPEC_FILE).exists() else []
        runs = [(run_dir / SPEC_FILE, run_dir) for run_dir in held] or [(target, None)]
    if not runs:
        raise EngineError(f"{args.target!r} is neither a spec file nor a run directory with {SPEC_FILE} "
                          "(nor a cross-validation's fold-<k>/ or a study's trials/<n>/)",
                          fix="pass the spec you ran, or its run directory")
    for spec_path, run_dir in runs:
        run, storage = structure_storage(read_raw(spec_path), session.plugins.registry)
        directory = run_dir or Path(run.dir) / run.name
        url = storage.options.url or str(directory / "checkpoints")
        manager = CheckpointManager(storage.component.build(attrs.evolve(storage.options, url=url)))
        infos = manager.committed()
        indent = "  " if len(runs) > 1 else ""
        if len(runs) > 1:
            print(f"{directory}:")
        if not infos:
            print(f"{indent}no committed checkpoints in {manager.storage.url}")
        for info in infos:
            metrics = "  ".join(f"{k}={v:.5g}" for k, v in sorted(info.metrics.items()))
            print(f"{indent}{info.name}  step {info.step}  epoch {info.epoch}  {info.size / 1e6:.2f} MB  {metrics}")
            print(f"{indent}    {info.url}")
    return EXIT_OK


def runs_command(args: argparse.Namespace, session: Session) -> int:
    """List the runs in a folder: name, status, steps, best metric, age."""
    from engine._core.runs_list import format_lines, list_runs

    rows = list_runs(Path(args.dir))
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
    elif not rows:
        print(f"no runs in {args.dir}")
    else:
        print("\n".join(format_lines(rows)))
    return EXIT_OK


def _configure_env(parser: argparse.ArgumentParser) -> None:
    from engine._core.env_report import configure

    configure(parser)


def env_command(args: argparse.Namespace, session: Session) -> int:
    """A run's environment (``env.json``): a summary, or with ``--requirements`` a requirements file."""
    from engine._core.env_report import env_command as report_environment

    return report_environment(args, session)


def new_plugin_command(args: argparse.Namespace, session: Session) -> int:
    from engine._core.scaffold import new_plugin

    root = new_plugin(args.name, Path(args.dir), args.kind, commands=collect(session.plugins).commands)
    print(f"wrote {root} ({args.kind}): pip install -e {root}[test] && pytest {root}")
    return EXIT_OK


@hookimpl
def engine_add_commands(commands: CommandRegistry) -> None:
    commands.add("run", help="train from a spec", configure=_configure_run, handler=run_command)
    commands.add("check", help="validate a spec as a run would and print the effective spec",
                 configure=add_spec_arguments, handler=check_command)

    def configure_schema(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--output", "-o", metavar="FILE", help="write the schema to FILE")

    commands.add("schema", help="print the JSON Schema of the spec for the installed plugins",
                 configure=configure_schema, handler=schema_command)

    def configure_plugins(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    commands.add("plugins", help="list plugins, what they provide and the events they implement",
                 configure=configure_plugins, handler=plugins_command)
    commands.add("hooks", help="list the hooks a plugin can implement",
                 configure=lambda parser: None, handler=hooks_command)

    def configure_checkpoints(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("target", metavar="SPEC_OR_RUN_DIR")

    commands.add("checkpoints", help="list the committed checkpoints of a run",
                 configure=configure_checkpoints, handler=checkpoints_command)

    def configure_runs(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dir", metavar="DIR", nargs="?", default="runs",
                            help="a folder of runs (default: runs), or one run directory")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    commands.add("runs", help="list runs: status, steps, best metric, age",
                 configure=configure_runs, handler=runs_command)
    commands.add("env", help="a run's environment: a summary, or a requirements file that recreates it",
                 configure=_configure_env, handler=env_command)

    def configure_new_plugin(parser: argparse.ArgumentParser) -> None:
        from engine._core.scaffold import add_kind_argument

        parser.add_argument("name", metavar="NAME", help="plugin name, e.g. csv (package engine-csv)")
        parser.add_argument("--dir", default=".", help="where to write the package (default: here)")
        add_kind_argument(parser)

    commands.add("new-plugin", help="write a pip-installable plugin package with tests",
                 configure=configure_new_plugin, handler=new_plugin_command)
