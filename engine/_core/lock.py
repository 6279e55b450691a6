"""One process per run directory: an advisory lock held for the run's lifetime.

The lock is ``fcntl.flock`` on ``<run dir>/.lock``, a file that also names its holder (PID,
host, start time) and is removed when the run ends. The operating system releases a flock
when its holder dies, however it dies, so a lock file left by a killed process is simply
taken over (with a notice naming it).
Where the file system has no locks (some network and FUSE mounts), the run goes on with a
warning: nothing then stops two processes from training the same run. See docs/restarts.md.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from engine._core.errors import EngineError
from engine._core.processes import process_alive

LOCK_FILE = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock
    fcntl = None  # type: ignore[assignment]


def holder_record() -> dict[str, Any]:
    """Who holds a lock: this process's PID, host and start time."""
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def describe(holder: dict[str, Any]) -> str:
    """``process 123 on host-a (since ...)``, or ``another process`` when nothing is recorded."""
    if "pid" not in holder:
        return "another process"
    since = f" (since {holder['started']})" if holder.get("started") else ""
    return f"process {holder['pid']} on {holder.get('host', '?')}{since}"


class RunDirectoryLock:
    """The lock of one run directory, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, path: Path, handle: IO[str] | None):
        self.path = path
        self._handle = handle

    @classmethod
    def acquire(cls, directory: Path, warn: Callable[[str], None],
                notice: Callable[[str], None] | None = None) -> RunDirectoryLock:
        """Lock ``directory`` (which exists) or raise an :class:`EngineError` naming the holder.

        A lock file left by a dead holder is taken over with a ``notice`` (a warning without
        one): the kernel released its lock, so the holder is certainly gone — the normal
        case of every attempt after a kill.
        """
        path = directory / LOCK_FILE
        while True:
            try:
                handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run's lifetime
            except OSError as exc:
                raise EngineError(f"cannot write to run directory {str(directory)!r}: {exc.strerror or exc}",
                                  where="run.dir", fix="choose a writable run.dir, or pass --run-dir") from None
            if fcntl is None:  # pragma: no cover
                warn(f"no file locks on this platform: nothing stops a second process from training "
                     f"{directory} at the same time")
                return cls(path, handle)
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(handle)
                handle.close()
                pid = f" {holder['pid']}" if "pid" in holder else ""
                raise EngineError(f"run directory {str(directory)!r} is in use by {describe(holder)}",
                                  fix=f"wait for it to end, or stop it (kill{pid or ' <pid>'}) and run "
                                      "again") from None
            except OSError as exc:  # ENOLCK, EOPNOTSUPP: a file system without locks
                warn(f"cannot lock run directory {directory} ({exc.strerror or exc}): nothing stops a "
                     "second process from training it at the same time")
                return cls(path, handle)
            if _same_file(handle, path):
                break
            handle.close()  # the holder removed the file as it released it: lock the new one
        previous = _read(handle)
        if previous and previous.get("pid") != os.getpid():
            (notice or warn)(f"took over the lock of run directory {directory} left by "
                             f"{describe(previous)}, which is no longer running")
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder_record()) + "\n")
        handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        """Remove the lock file, then unlock. A lock file found later was left by a process
        that died holding it."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            if _same_file(handle, self.path):
                self.path.unlink()
        except OSError:
            pass
        finally:
            handle.close()  # closing releases the flock


def held(directory: Path) -> bool:
    """Whether a living process holds ``directory``'s lock (its run is going on). A lock file
    left by a dead holder is not held; nothing is created or changed.

    A holder on this host is looked up by its PID, so that asking never takes the lock, even
    for a moment, from a run that is starting; one on another host is probed with a shared lock.
    """
    try:
        handle = open(directory / LOCK_FILE, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        return False
    holder = _read(handle)
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        handle.close()
        try:
            return process_alive(holder["pid"])
        except OSError:  # not a process id this system knows
            return False
    if fcntl is None:  # pragma: no cover
        handle.close()
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks: the file is all there is to go by
        return True
    finally:
        handle.close()
    return False


def _same_file(handle: IO[str], path: Path) -> bool:
    """Whether ``path`` still names the file ``handle`` has open."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except OSError:
        return False


def _read(handle: IO[str]) -> dict[str, Any]:
    try:
        handle.seek(0)
        record = json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}
