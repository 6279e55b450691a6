"""``engine env RUN_DIR``: a run's ``env.json`` read back, as a short summary or as a
requirements file (``--requirements``) that recreates the run's installed distributions."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core.errors import EXIT_OK, EngineError
from engine._core.redact import redact_text
from engine._core.run_tree import run_directories
from engine._core.rundir import ENV_FILE, write_atomic

if TYPE_CHECKING:
    from engine._core.cli.session import Session

WHERE = "engine env"
#: A ``name @ url`` requirement line (a VCS or archive URL, redacted when it was recorded).
_URL_REQUIREMENT = re.compile(r"[a-z0-9][a-z0-9-]* @ \S+\n?")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (it holds env.json)")
    parser.add_argument("--requirements", action="store_true",
                        help="print a requirements file (name==version lines) that recreates the run's "
                             "installed distributions")
    parser.add_argument("--output", "-o", metavar="FILE", help="with --requirements: write it to FILE")


def env_command(args: argparse.Namespace, session: Session) -> int:
    directory = Path(args.run_dir)
    record = read(directory)
    if args.output and not args.requirements:
        raise EngineError("--output writes a requirements file", where=WHERE, fix="add --requirements")
    if not args.requirements:
        print("\n".join(summary(record, directory)))
        return EXIT_OK
    if args.output is None:
        _print_requirements(requirements(record, directory, Path.cwd()))
        return EXIT_OK
    output = Path(args.output)
    text = requirements(record, directory, output.absolute().parent)
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise EngineError(f"cannot write {args.output!r}: {exc.strerror or exc}", where=WHERE,
                          fix="choose a writable --output path") from None
    count = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    print(f"wrote {output} ({count} requirements)", file=sys.stderr)
    return EXIT_OK


def _print_requirements(text: str) -> None:
    """Print a requirements file as written with ``--output``. The CLI's free-text redaction
    (:func:`engine._core.redact.redact_text`) would take a VCS URL's ``@<commit>`` for user-info
    and cut the host away; those URLs lost their user-info when ``env.json`` was written, so
    ``name @ url`` lines pass unchanged and every other line is redacted as usual."""
    stream = sys.stdout
    target = getattr(stream, "_inner", stream)  # under the CLI's redacting wrapper: what it wraps
    for line in text.splitlines(keepends=True):
        target.write(line if _URL_REQUIREMENT.match(line) else redact_text(line))
    target.flush()


def read(directory: Path) -> dict[str, Any]:
    """The ``env.json`` of run directory ``directory``; a missing or unreadable one is one line."""
    path = directory / ENV_FILE
    if not path.is_file():
        runs = run_directories(directory) if directory.is_dir() else []
        runs = [run for run in runs if (run / ENV_FILE).is_file()]
        what = "does not exist" if not directory.exists() else f"holds no {ENV_FILE}"
        fix = (f"pass one of its runs, such as {runs[0]}" if runs
               else "pass a run directory, such as runs/<name> (engine runs lists them)")
        raise EngineError(f"{str(directory)!r} {what}", where=WHERE, fix=fix)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngineError(f"cannot read {str(path)!r}: {exc}", where=WHERE,
                          fix="the file is damaged; rerun the run to write it again") from None
    if not isinstance(record, dict):
        raise EngineError(f"{str(path)!r} is not an environment record", where=WHERE,
                          fix="pass a run directory written by engine run")
    return record


def requirements(record: dict[str, Any], directory: Path, base: Path) -> str:
    """``pip install -r`` input: ``name==version`` for every distribution installed from an index,
    ``name @ url`` for one from a VCS or an archive URL, and a comment naming the source path
    of each editable or local install (relative to ``base`` when it lies inside it)."""
    installed = _distributions(record)
    build = record.get("python_build") or {}
    system = record.get("os") or {}
    lines = [
        f"# The environment of the run in {directory} ({ENV_FILE}, started {record.get('started', '?')}).",
        f"# Python {record.get('python', '?')} ({build.get('implementation', '?')}) on "
        f"{system.get('system', '?')} {system.get('machine', '')}".rstrip() + ".",
        "# Recreate it with that Python: python -m venv .venv && .venv/bin/pip install -r <this file>",
    ]
    local_builds = [name for name, facts in installed.items() if "+" in str(facts.get("version"))
                    and not _source(facts)]
    if local_builds:
        lines.append(f"# {', '.join(local_builds)}: a version with a local label (+cpu, +cu124) is on "
                     "its maker's index, not PyPI: add it (--extra-index-url URL)")
    pinned: list[str] = []
    sourced: list[str] = []
    for name, facts in installed.items():
        if name == "pip":
            continue
        version = facts.get("version")
        if facts.get("url"):
            pinned.append(f"{name} @ {facts['url']}")
        elif (source := _source(facts)) is not None:
            kind = "editable" if facts.get("editable") else "local"
            path = _relative(source, base)
            install = f"pip install -e {path}" if kind == "editable" else f"pip install {path}"
            sourced.append(f"# {name}=={version}: {kind} install from {path} ({install})")
        elif version:
            pinned.append(f"{name}=={version}")
        else:
            sourced.append(f"# {name}: its version was not recorded")
    if sourced:
        lines.append("# Not from an index (install these from their sources):")
    return "\n".join(lines + sourced + pinned) + "\n"


def summary(record: dict[str, Any], directory: Path) -> list[str]:
    """A few lines: Python, OS, CPU, GPUs, library facts, seeds, git and the distributions."""
    build = record.get("python_build") or {}
    system = record.get("os") or {}
    processor = record.get("cpu") or {}
    current = "python_build" in record
    installed = _distributions(record) if current else {}
    engine = installed.get("engine", {})
    rows = [
        ("run", f"{directory} (started {record.get('started', '?')})"),
        ("engine", " ".join(filter(None, [str(record.get("engine")), _from(engine)]))),
        ("python", ", ".join(filter(None, [
            f"{record.get('python', '?')} {build.get('implementation', '')}".strip(),
            build.get("compiler"), build.get("executable")]))),
        ("os", ", ".join(filter(None, [
            " ".join(filter(None, [system.get("system"), system.get("release"), system.get("machine")])),
            system.get("libc"), system.get("distribution") or system.get("macos")])) or record.get("platform", "?")),
    ]
    if processor:
        rows.append(("cpu", f"{processor.get('model') or 'unknown model'}, {processor.get('logical')} logical "
                            f"({processor.get('usable')} usable)"))
    gpu = record.get("gpu")
    rows.append(("gpu", _gpus(gpu) if gpu else "no NVIDIA driver seen"))
    for library, facts in sorted((record.get("runtime") or {}).items()):
        if isinstance(facts, dict):
            shown = [f"{key} {_short(value)}" for key, value in facts.items() if value not in (None, [], {}, "")]
            rows.append((library, ", ".join(shown) or "-"))
    seeds = record.get("seeds") or {}
    if seeds:
        fold = f", fold {seeds['fold']} of {seeds['folds']}" if "fold" in seeds else ""
        hashseed = record.get("pythonhashseed")
        rows.append(("seeds", f"run.seed {seeds.get('run')}{fold}; PYTHONHASHSEED "
                              + (hashseed if hashseed is not None else "unset (str hashes vary per process)")))
    if "git" in record:
        git = record["git"]
        rows.append(("git", "not a git work tree (or no git)" if not git else
                     f"{(git.get('commit') or 'no commit yet')[:12]}"
                     + (f" on {git['branch']}" if git.get("branch") else "")
                     + (", uncommitted changes" if git.get("dirty") else ", clean")))
    editable = sum(1 for facts in installed.values() if _source(facts))
    rows.append(("packages", f"{len(installed)} distributions ({editable} editable or local); "
                             f"engine env {directory} --requirements lists them" if current else
                 "recorded by an older engine: engine's own distributions only"))
    width = max(len(label) for label, _ in rows)
    return [f"{label.ljust(width)}  {text}" for label, text in rows]


def _distributions(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = record.get("distributions")
    if not isinstance(found, dict) or "python_build" not in record:
        raise EngineError(f"this {ENV_FILE} was written by an older engine: it lists engine's own "
                          "distributions only", where=WHERE,
                          fix="run the spec again with this engine to record its whole environment")
    return {name: facts for name, facts in found.items() if isinstance(facts, dict)}


def _source(facts: dict[str, Any]) -> str | None:
    source = facts.get("editable") or facts.get("path")
    return str(source) if source else None


def _from(facts: dict[str, Any]) -> str:
    source = _source(facts)
    return f"({'editable' if facts.get('editable') else 'local'}: {source})" if source else ""


def _relative(path: str, base: Path) -> str:
    """``path`` relative to ``base`` when it lies inside it; else as recorded."""
    try:
        return os.path.relpath(path, base) if Path(path).is_relative_to(base) else path
    except ValueError:  # another drive
        return path


def _gpus(gpu: dict[str, Any]) -> str:
    models: list[str] = [str(model) for model in gpu.get("models") or []]
    counted = ", ".join(f"{model} x{models.count(model)}" for model in dict.fromkeys(models)) or "no GPU listed"
    return f"{counted}; NVIDIA driver {gpu.get('driver') or '?'}"


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_short(item) for item in value)
    if isinstance(value, dict):
        return " ".join(str(item) for item in value.values())
    return str(value)
