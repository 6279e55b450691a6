"""The run directory kept at ``<url>/run/`` (``mirror_run_dir``): copied off the training loop,
restored when a run resumes on a machine that lacks it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from engine import hookimpl

if TYPE_CHECKING:
    from engine import Run
    from engine_fsspec.storage import FsspecStorage

#: The folder next to the checkpoints that holds the copy (checkpoints are ``step-…``).
RUN_FOLDER = "run"


def mirrored_files(directory: Path) -> list[tuple[str, Path]]:
    """``(relative POSIX path, path)`` of the files to copy: all but partial (dot) files and local checkpoints."""
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts) \
                and relative.parts[0] != "checkpoints":
            found.append((relative.as_posix(), path))
    return found


def safe_relative(relative: str) -> bool:
    """Whether a stored name stays inside the run directory when written back."""
    parts = PurePosixPath(relative).parts
    return bool(parts) and not PurePosixPath(relative).is_absolute() and ".." not in parts


class RunDirMirror:
    """Copies new and changed files of the run directory to the storage.

    After each committed checkpoint a copy starts in a background thread, unless the previous
    one is still running; when the run ends the last copy runs to completion before the
    process exits. A failed copy is a warning (the next one tries again), or fails the run
    when ``checkpoint.on_error = "fail"``.
    """

    def __init__(self, storage: FsspecStorage, directory: Path):
        self.storage = storage
        self.directory = directory
        self.copied: dict[str, tuple[int, int]] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="engine-run-dir")
        self._pending: Future[None] | None = None

    def copy(self) -> None:
        """Upload every file whose size or modification time changed since its last upload."""
        for relative, path in mirrored_files(self.directory):
            try:
                stat = path.stat()
                data = path.read_bytes()
            except FileNotFoundError:  # replaced or removed meanwhile: the next copy sees it
                continue
            key = (stat.st_size, stat.st_mtime_ns)
            if self.copied.get(relative) == key:
                continue
            self.storage.write_run_file(relative, data)
            self.copied[relative] = key

    @hookimpl
    def on_checkpoint(self, run: Run) -> None:
        if self._pending is not None and not self._pending.done():
            return
        self._collect(run)
        self._pending = self._executor.submit(self.copy)

    @hookimpl
    def on_run_end(self, run: Run) -> None:
        try:
            self._collect(run)
            self._report(run, self.copy)
        finally:
            self._executor.shutdown(wait=True)

    def _collect(self, run: Run) -> None:
        """Wait for the copy in flight and report how it ended."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._report(run, pending.result)

    def _report(self, run: Run, finish: Callable[[], object]) -> None:

        try:
            finish()
        except Exception as exc:
            if run.spec.checkpoint.on_error == "fail":
                raise
            run.warn(f"could not copy the run directory to {self.storage.url}/{RUN_FOLDER}: {exc}; "
                      "the next checkpoint tries again")
