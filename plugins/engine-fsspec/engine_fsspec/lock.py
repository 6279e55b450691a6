"""A best-effort lock on a checkpoint storage: ``<url>/.lock.json`` names the process that
trains into it (owner, PID, host, start) and carries a heartbeat it rewrites every
``lock_heartbeat`` seconds.

A process that finds another's lock object:

- takes it over at once (with a warning) when the holder ran on this host and is gone;
- otherwise watches the heartbeat for up to three periods: if it moves, the holder is alive
  and the process exits 2 naming it; if it does not, the holder is taken to be dead (a
  killed job on another node) and the lock is taken over with a warning.

Object stores have no compare-and-swap that fsspec exposes, so this is not a mutual
exclusion: two processes that start within the same fraction of a second on different hosts
can both believe they hold the lock (after writing, each reads the object back and the loser
of a visible race exits, which narrows the window but does not close it), and a holder that
stalls for longer than three heartbeat periods (a frozen VM, a long network partition) can be
taken over while it lives. It does catch the common mistake: a second job started on a run
that is still training. See docs/restarts.md.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine import EngineError

if TYPE_CHECKING:
    from engine_fsspec.storage import FsspecStorage

LOCK_OBJECT = ".lock.json"
#: Heartbeat periods without a change after which a holder is taken to be dead.
STALE_PERIODS = 3


def describe(record: dict[str, Any]) -> str:
    owner = f" ({record['owner']})" if record.get("owner") else ""
    return f"process {record.get('pid', '?')} on {record.get('host', '?')}{owner}"


class StorageLock:
    """The lock object of one storage, held from :meth:`acquire` until the returned release."""

    def __init__(self, storage: FsspecStorage, warn: Callable[[str], None], heartbeat: float,
                 notice: Callable[[str], None] | None = None):
        from engine_fsspec import urls

        self.storage = storage
        self.warn = warn
        #: For a takeover that is certain (the holder ran here and is gone): not a warning.
        self.notice = notice or warn
        self.heartbeat = heartbeat
        self.path = urls.join(storage.root, LOCK_OBJECT)
        self.where = urls.join(storage.url, LOCK_OBJECT)
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, holder: dict[str, Any]) -> Callable[[], None]:
        found = self._read()
        if found is not None and found.get("token") != self.token:
            self._wait_out(found)
        record = {**holder, "owner": _user(), "token": self.token, "heartbeat": time.time()}
        self._write(record)
        time.sleep(min(0.2, self.heartbeat / 10))  # a writer racing us shows within this pause
        back = self._read()
        if back is not None and back.get("token") != self.token:
            raise EngineError(f"checkpoint storage {self.storage.url} was locked at the same moment by "
                              f"{describe(back)}", fix="run one process per run")
        self._thread = threading.Thread(target=self._beat, args=(record,), daemon=True,
                                        name="engine-storage-lock")
        self._thread.start()
        return self.release

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with contextlib.suppress(Exception):
            found = self._read()
            if found is not None and found.get("token") == self.token:
                self.storage.fs.rm(self.path)

    # ------------------------------------------------------------------ helpers

    def _wait_out(self, found: dict[str, Any]) -> None:
        """Return once ``found``'s holder is known dead; raise while it is alive."""
        if found.get("host") == socket.gethostname() and isinstance(found.get("pid"), int):
            if found["pid"] == os.getpid():
                return  # this process's own, left by a run it ended without releasing
            if not _alive(found["pid"]):
                self.notice(f"took over the lock of checkpoint storage {self.storage.url} left by "
                          f"{describe(found)}, which is no longer running")
                return
        period = float(found.get("period", self.heartbeat))
        patience = STALE_PERIODS * period
        self.warn(f"checkpoint storage {self.storage.url} is locked by {describe(found)}: watching its "
                  f"heartbeat for up to {patience:g} s to tell whether it still runs")
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            time.sleep(min(period / 4, max(0.0, deadline - time.monotonic())) or 0.01)
            now = self._read()
            if now is None:
                return  # released meanwhile
            if now.get("token") != found.get("token") or now.get("heartbeat") != found.get("heartbeat"):
                raise EngineError(f"checkpoint storage {self.storage.url} is in use by {describe(now)}",
                                  fix="wait for it to end, or stop it and run again")
        self.warn(f"took over the lock of checkpoint storage {self.storage.url} from {describe(found)}: "
                  f"no heartbeat for {patience:g} s")

    def _beat(self, record: dict[str, Any]) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                found = self._read(retry=False)
                if found is not None and found.get("token") != self.token:
                    self.warn(f"the lock of checkpoint storage {self.storage.url} was taken over by "
                              f"{describe(found)}: two processes may now train this run")
                    return
                self._write({**record, "heartbeat": time.time()}, retry=False)
            except Exception:  # best effort: an outage must not stop training
                continue

    def _read(self, retry: bool = True) -> dict[str, Any] | None:
        def read() -> bytes | None:
            self.storage.fs.invalidate_cache(self.path)
            try:
                data: bytes = self.storage.fs.cat_file(self.path)
            except FileNotFoundError:
                return None
            return data

        data = self.storage._call(read, "reading", self.where) if retry else read()
        if data is None:
            return None
        try:
            record = json.loads(data)
        except ValueError:
            return {}
        return record if isinstance(record, dict) else {}

    def _write(self, record: dict[str, Any], retry: bool = True) -> None:
        data = json.dumps({**record, "period": self.heartbeat}).encode()

        def write() -> None:
            self.storage.fs.pipe_file(self.path, data)

        if retry:
            self.storage._call(write, "locking", self.where)
        else:
            write()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is another user's
        return True
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return ""
