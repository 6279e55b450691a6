"""``--workers N``: N ``engine tune --worker`` processes on one study, reaped as they end."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time

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


def spawn_workers(count: int, args: argparse.Namespace, session: Session, url: str, study: str,
                  n_trials: int, deadline: float | None, devices: list[str] | None = None) -> list[int]:
    """Start the workers and wait for all; Ctrl-C is passed on to each. Returns their exit codes.
    With ``devices``, worker i sees device i mod their number alone (``CUDA_VISIBLE_DEVICES``)."""
    command = worker_command(args, session, url, study, n_trials, deadline)
    processes = [subprocess.Popen(command, env=worker_environment(i, devices or [])) for i in range(count)]
    try:
        while any(p.poll() is None for p in processes):  # poll reaps promptly: no zombie looks alive
            time.sleep(0.2)
    except KeyboardInterrupt:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()
    return [p.returncode for p in processes]
