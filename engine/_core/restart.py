"""Opening a run directory for one attempt of a run: ``engine run SPEC --resume`` is right
for every attempt of a requeued job.

- With committed checkpoints, ``--resume`` continues from the newest, after comparing the
  spec with the run's recorded one (:mod:`engine._core.resume_changes`).
- With none (killed before its first checkpoint, or never started), ``--resume`` starts
  the run from step 0 and says so in one line.
- A plain ``engine run`` never writes into an existing run directory.
- Only one process trains a run directory at a time (:mod:`engine._core.lock`; a checkpoint
  storage may add its own lock with ``acquire_lock``).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from engine._core import rundir
from engine._core.errors import EngineError
from engine._core.lock import LOCK_FILE, RunDirectoryLock, holder_record
from engine._core.resume_changes import compare

if TYPE_CHECKING:
    from pathlib import Path

    from engine._core.checkpoint.manager import CheckpointManager
    from engine._core.run import Run


@attrs.define
class Attempt:
    """This process's attempt at a run: whether it resumes, and the locks it holds."""

    resume: bool
    #: Write ``spec.toml``: a new start, or a resume that accepted changes.
    write_spec: bool
    #: This process made the run directory: a run that never starts removes it.
    created: bool = False
    releases: list[Callable[[], None]] = attrs.field(factory=list)

    def release(self) -> None:
        for release in reversed(self.releases):
            with contextlib.suppress(Exception):
                release()
        self.releases.clear()


def begin(run: Run, *, resume: bool, allow_changes: bool,
          notice: Callable[[str], None], warn: Callable[[str], None], new_directory: bool = False) -> Attempt:
    """Lock and prepare ``run.dir`` and decide whether this attempt resumes. ``new_directory``:
    ``run.dir`` was made for this run (:func:`engine._core.rundir.claim_new`), so a checkpoint
    storage the spec names that already holds checkpoints is another run's, and refused.

    Raises :class:`~engine._core.errors.EngineError` (leaving nothing behind) when the run cannot
    go on: the directory is another process's, or the spec changed in a way it cannot resume.
    """
    manager = run.checkpoints
    assert manager is not None
    directory = run.dir
    if not run.is_main_process:  # rank 0 locks and decides; the others follow the same storage
        attempt = Attempt(resume=resume and bool(manager.committed(quiet=True)), write_spec=False)
        if attempt.resume and (directory / rundir.SPEC_FILE).exists():
            manager.fresh = set(compare(directory / rundir.SPEC_FILE, run.spec, run.plugins).fresh)
        return attempt
    manager.notice = notice  # the main process speaks for the run
    existed = directory.exists()
    rundir.prepare(directory, resume=resume)
    attempt = Attempt(resume=resume, write_spec=not resume, created=not existed or not resume)
    try:
        attempt.releases.append(RunDirectoryLock.acquire(directory, warn, notice).release)
        acquire = getattr(manager.storage, "acquire_lock", None)
        if callable(acquire):
            release = acquire(holder_record(), warn, notice)
            if callable(release):
                attempt.releases.append(release)
        if resume:
            _resume_or_start(run, attempt, allow_changes=allow_changes, notice=notice)
        elif new_directory:
            _refuse_used_storage(manager)
    except BaseException as exc:
        attempt.release()
        if attempt.created:
            shutil.rmtree(directory, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk, a read-only mount: the run cannot start here
            raise unwritable(directory, exc) from None
        raise
    return attempt


def _refuse_used_storage(manager: CheckpointManager) -> None:
    """A new run never saves among another run's checkpoints: a ``checkpoint.storage`` URL
    that a run of the same spec already wrote to (the next run directory, ``runs/<name>-2``,
    shares the spec's URL) is refused. An unreachable storage is left to the saves to report."""
    try:
        found = manager.committed(quiet=True)
    except Exception:
        return
    if found:
        raise EngineError(f"checkpoint storage {manager.storage.url} already holds checkpoints "
                          f"(newest {found[-1].name}) of another run", where="checkpoint.storage",
                          fix="use --resume to continue that run, or give this run its own storage URL "
                              "(--set checkpoint.storage_options.url=...)")


def unwritable(directory: Path, exc: OSError) -> EngineError:
    """The one-line error for a run directory this process cannot write."""
    return EngineError(f"cannot write the run directory {str(directory)!r}: {exc.strerror or exc}",
                       where="run.dir", fix="free space on it, or choose another run.dir or --run-dir")


def _resume_or_start(run: Run, attempt: Attempt, *, allow_changes: bool,
                     notice: Callable[[str], None]) -> None:
    manager = run.checkpoints
    assert manager is not None
    directory = run.dir
    if not manager.committed():
        rundir.clear_unstarted(directory, keep=(LOCK_FILE, "checkpoints"))
        notice(f"--resume: no committed checkpoint in {manager.storage.url}: starting the run from step 0")
        attempt.resume, attempt.write_spec = False, True
        return
    recorded = directory / rundir.SPEC_FILE
    if not recorded.exists():  # a fresh machine: the storage may hold a copy of the run directory
        restore = getattr(manager.storage, "restore_run_directory", None)
        if callable(restore):
            restore(directory)
    if not recorded.exists():
        notice(f"--resume: {directory} holds no records of this run: resuming from {manager.storage.url} "
               "in a new run directory (the earlier metrics log and tracker output are not here; "
               "an fsspec storage keeps them with mirror_run_dir = true)")
        attempt.write_spec = True
        return
    changes = compare(recorded, run.spec, run.plugins)
    changes.check(allow=allow_changes, where=str(recorded))
    manager.fresh = set(changes.fresh)
    if changes.items:
        notice(changes.notice())
        attempt.write_spec = True  # spec.toml says what the run goes on with


def print_notice(message: str) -> None:
    """A one-line notice on stderr (shown even with ``--quiet``: it says what the run does)."""
    print(f"engine: {message}", file=sys.stderr, flush=True)
