"""``--workers N``: ``engine tune --worker`` processes on one study, reaped as they end.

Without per-worker devices the command itself is worker 0 and starts N - 1 processes: it has
imported the libraries and read the spec already, so its trials start at once and the machine
pays one start-up less. With devices (``[tune] devices``) it starts all N, each seeing its own
device alone, and only waits for them: its own process may have initialised a device already
while checking the spec.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from engine.session import Session
from engine_optuna.devices import VARIABLE, device_for


def worker_command(args: argparse.Namespace, session: Session, url: str, study: str, n_trials: int,
                   deadline: float | None) -> list[str]:
    command = [sys.executable, "-m", "engine"]
    for module in session.modules:
        command += ["-p", module]
    for name in session.blocked:
        command += ["-p", f"no:{name}"]
    command += ["tune", args.spec, "--storage", url, "--study", study, "--trials", str(n_trials),
                "--workers", "1", "--worker"]
    for assignment in args.set:
        command += ["--set", assignment]
    if deadline is not None:
        command += ["--timeout", f"{max(deadline - time.time(), 0.0):.3f}"]
    return command


def worker_environment(worker: int, devices: list[str]) -> dict[str, str] | None:
    """The environment of worker ``worker``: this one, with its device alone visible if any."""
    device = device_for(worker, devices)
    return None if device is None else {**os.environ, VARIABLE: device}


def run_workers(count: int, command: list[str], devices: list[str], *,
                here: Callable[[], None] | None = None) -> list[int]:
    """Run ``count`` workers and wait for all; returns the exit codes of the processes started.

    With ``here``, this process is worker 0 (``here()`` runs its trials) and ``count - 1``
    processes are started; without it all ``count`` are, worker i seeing device i mod their
    number alone (``CUDA_VISIBLE_DEVICES``) where ``devices`` are given. Ctrl-C, or an error in
    ``here``, is passed on to every process as SIGINT, and they are waited for before it goes on.
    """
    first = 1 if here is not None else 0
    processes = [subprocess.Popen(command, env=worker_environment(i, devices)) for i in range(first, count)]
    reaping = _Reaper(processes)  # an exited worker is reaped at once: a zombie would look alive to the others
    try:
        if here is not None:
            here()
        reaping.wait()
    except BaseException:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()
        raise
    finally:
        reaping.stop()
    return [p.returncode for p in processes]


class _Reaper:
    """Polls the worker processes in a thread, which reaps each as it exits.

    The workers tell a dead worker's trial from a live one by its process id
    (:func:`engine_optuna.worker.process_alive`); an exited worker that is not reaped stays a
    zombie, which still has its id, and its trial would be waited for forever.
    """

    INTERVAL = 0.05

    def __init__(self, processes: list[subprocess.Popen[bytes]]):
        self.processes = processes
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="engine-tune-reaper", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set() and any(p.poll() is None for p in self.processes):
            self._done.wait(self.INTERVAL)

    def wait(self) -> None:
        """Until every worker has exited."""
        while self._thread.is_alive():
            self._thread.join(0.2)  # in slices: Ctrl-C still reaches this thread

    def stop(self) -> None:
        self._done.set()
