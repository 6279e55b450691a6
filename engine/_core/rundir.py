"""The run directory: effective spec, environment, metrics log and summary."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine._core.collective import Processes
from engine._core.errors import EngineError
from engine._core.spec.toml_text import dump_toml, redact
from engine._core.status import RunStatus

if TYPE_CHECKING:
    from engine._core.spec.model import Spec


class RunFiles:
    """The names of the files the core writes in every run directory."""

    SPEC = "spec.toml"
    """The effective spec, secrets redacted: ``engine run runs/<name>/spec.toml`` reruns it."""
    ENV = "env.json"
    """Every installed distribution, the Python build, OS, CPU and GPUs, seeds, git state of the
    spec's folder, command line (:mod:`engine._core.environment`)."""
    METRICS = "metrics.jsonl"
    """One JSON line per logged metric batch: ``{"step": …, "epoch": …, "name": value, …}``."""
    SUMMARY = "summary.json"
    """How the run ended: status, reason, exit code, steps, best and final metrics, warnings."""


SPEC_FILE = RunFiles.SPEC
ENV_FILE = RunFiles.ENV
METRICS_FILE = RunFiles.METRICS
SUMMARY_FILE = RunFiles.SUMMARY


def run_dir_for(spec: Spec, override: str | None = None) -> Path:
    """A spec's run directory: ``override`` (``--run-dir``), else ``<run.dir>/<run.name>``."""
    return Path(override) if override else Path(spec.run.dir) / spec.run.name


def versions(base: Path) -> dict[int, Path]:
    """The runs of one name that exist: ``base`` (number 1) and ``base-2``, ``base-3``, …"""
    found = {1: base} if base.exists() else {}
    numbered = re.compile(re.escape(base.name) + r"-([1-9][0-9]*)")
    with contextlib.suppress(OSError):
        for entry in base.parent.iterdir():
            match = numbered.fullmatch(entry.name)
            if match and int(match.group(1)) >= 2:
                found[int(match.group(1))] = entry
    return found


def newest(base: Path) -> Path:
    """The run of ``base``'s name with the highest number (``--resume``), or ``base``."""
    found = versions(base)
    return found[max(found)] if found else base


@attrs.define
class NewRunDir:
    """A run directory this process created, empty, for a new run (:func:`claim_new`)."""

    path: Path
    #: The directories this process made, deepest first: the run directory, then its parents.
    made: list[Path]

    def discard(self) -> None:
        """Remove what :func:`claim_new` made, where it is still empty: a run that never started
        leaves nothing behind."""
        for directory in self.made:
            with contextlib.suppress(OSError):
                directory.rmdir()


def claim_new(base: Path) -> NewRunDir:
    """Create the next free run directory of ``base``'s name: ``base``, else ``base-<n>`` after the
    highest number that exists. ``mkdir`` is atomic, so two runs started at once never get the
    same directory: the one that loses takes the next number. A new run never writes into an
    existing run directory."""
    where, fix = "run.dir", "choose a writable run.dir, or pass --run-dir"
    missing = [parent for parent in (base.parent, *base.parent.parents) if not parent.exists()]
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        number = max(versions(base), default=0) + 1
        while True:
            path = base if number == 1 else base.with_name(f"{base.name}-{number}")
            try:
                path.mkdir()
            except FileExistsError:
                number += 1
                continue
            return NewRunDir(path, [path, *missing])
    except OSError as exc:
        NewRunDir(base, missing).discard()
        raise EngineError(f"cannot create run directory {str(base)!r}: {exc.strerror or exc}",
                          where=where, fix=fix) from None


def resolve(spec: Spec, override: str | Path | None, *, resume: bool) -> tuple[Path, NewRunDir | None]:
    """Where a run goes, and the directory claimed for it (to :meth:`NewRunDir.discard` if it
    never starts): ``--run-dir`` as given; with ``resume`` the newest run of the spec's name;
    else a new directory (:func:`claim_new`). The processes of one multi-process run cannot
    agree on a new number before they are joined: they keep ``<run.dir>/<run.name>``."""
    if override:
        return Path(override), None
    base = run_dir_for(spec)
    if resume:
        return newest(base), None
    if Processes.from_environment().world_size > 1:
        return base, None
    claimed = claim_new(base)
    return claimed.path, claimed


def prepare(directory: Path, *, resume: bool) -> None:
    """Create the run directory (and its parents). A new run (not ``resume``) never writes
    into an existing run directory; one that cannot be created is the spec's mistake."""
    where, fix = "run.dir", "choose a writable run.dir, or pass --run-dir"
    if directory.exists() and not directory.is_dir():
        raise EngineError(f"run directory {str(directory)!r} is a file", where=where, fix=fix)
    try:
        if not resume and directory.is_dir() and any(directory.iterdir()):
            raise EngineError(
                f"run directory {str(directory)!r} already exists",
                fix="use --resume to continue it, or choose another run.name or --run-dir",
            )
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineError(f"cannot create run directory {str(directory)!r}: {exc.strerror or exc}",
                          where=where, fix=fix) from None


#: Statuses of a run that ended and has nothing left to do.
FINISHED = (RunStatus.COMPLETED, RunStatus.STOPPED)


def clear_unstarted(directory: Path, keep: tuple[str, ...]) -> None:
    """Empty a run directory whose run never committed a checkpoint, for a start from step 0.

    What an attempt killed before its first checkpoint left (spec, environment, metrics,
    tracker output) is removed; ``keep`` (the lock, the checkpoint folder with its uncommitted
    saves) stays. A directory that is not a run directory, or holds a finished run, is refused.
    """
    entries = [entry for entry in directory.iterdir() if entry.name not in keep]
    if not entries:
        return
    fix = "choose another run.name or --run-dir"
    if not (directory / SPEC_FILE).exists():
        raise EngineError(f"{str(directory)!r} is not empty and holds no {SPEC_FILE}: not a run directory",
                          where="run.dir", fix=fix)
    summary = directory / SUMMARY_FILE
    with contextlib.suppress(OSError, ValueError, AttributeError):
        status = json.loads(summary.read_text(encoding="utf-8")).get("status")
        if status in FINISHED:
            raise EngineError(f"run directory {str(directory)!r} holds a {status} run and no checkpoint "
                              "to resume from", fix=f"{fix} to train again")
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write a file whole or not at all: ``.<name>.partial-<pid>`` beside it, then a rename.

    A reader, or a process killed half-way, never sees a partly written file; a write that
    fails (a full disk) removes its partial file at once and leaves ``path`` as it was. Each
    process writes its own partial file, so two writing one record at once (workers of one
    study sharing its folder) leave one whole version, the last renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        if isinstance(data, str):
            partial.write_text(data, encoding="utf-8")
        else:
            partial.write_bytes(data)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, document: Any) -> None:
    """Write JSON atomically."""
    write_atomic(path, json.dumps(document, indent=2, allow_nan=True, default=str) + "\n")


def write_spec(directory: Path, spec: Spec) -> None:
    write_atomic(directory / SPEC_FILE, dump_toml(redact(spec.raw)))
