"""``--workers N``: ``engine tune --worker`` processes on one study, reaped as they end.

The workers start as the command starts, before it structures and checks the spec, so that
their start-up (the interpreter, the libraries, the spec) runs beside the command's own
instead of after it. Each then loads the storage's modules and waits for its :class:`Orders`
on standard input: the storage, study, trial budget and deadline the command settled on once
the study is open, or the end of the input when the command stopped first (a bad spec: the
command says why, the workers exit without a word). The storage URL travels on that pipe, never on a command line that
other users of the machine can list. Each starts with its share of the cores
(:mod:`engine_optuna.threads`) and, with devices, its own device.

Without per-worker devices the command itself is worker 0 and starts N - 1 processes: its
trials start as soon as the study is open, and the machine pays one start-up less. With
devices (``[tune] devices``) it starts all N, each seeing its own device alone, and only waits
for them: its own process may have initialised a device already while checking the spec.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO

import attrs

from engine import parallelism_problems
from engine.session import RawSpec, Session
from engine_optuna.devices import VARIABLE, device_for, devices_problems, worker_devices
from engine_optuna.threads import thread_variables, threads_problems

Processes = list[subprocess.Popen[bytes]]


@attrs.frozen
class Orders:
    """What the command tells each worker it started, once the study is open."""

    storage: str
    study: str
    n_trials: int
    deadline: float | None  # time.time() after which no trial starts


@attrs.frozen
class Plan:
    """How many workers, on which devices, with which thread variables (:mod:`engine_optuna.threads`)."""

    count: int
    devices: list[str]
    threads: dict[str, str]


def plan_workers(count: int, devices: object, threads: object) -> Plan:
    """The :class:`Plan` of ``count`` workers for ``[tune] devices`` and ``threads``."""
    return Plan(count, worker_devices(devices) if count > 1 else [], thread_variables(threads, count))


def planned_workers(workers_flag: int | None, raw: RawSpec) -> Plan:
    """The :class:`Plan` for the worker count (``--workers``, else ``[tune] workers``), read
    from the spec before it is structured so that the workers can start at once; one worker
    with nothing set for values that the command refuses later (structuring, or more workers
    or threads than the machine can run)."""
    tune = raw.data.get("tune")
    tune = tune if isinstance(tune, dict) else {}
    count = workers_flag if workers_flag is not None else tune.get("workers", 1)
    devices, threads = tune.get("devices", "auto"), tune.get("threads", "auto")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1 \
            or parallelism_problems({"workers": count}, where="tune") \
            or devices_problems(devices) or threads_problems(threads):
        return Plan(1, [], {})
    return plan_workers(count, devices, threads)


def worker_command(args: argparse.Namespace, session: Session) -> list[str]:
    """The command line of a worker: this spec, its ``--set`` values and ``-p`` plugins."""
    command = [sys.executable, "-m", "engine"]
    for module in session.modules:
        command += ["-p", module]
    for name in session.blocked:
        command += ["-p", f"no:{name}"]
    command += ["tune", args.spec, "--workers", "1", "--worker"]
    for assignment in args.set:
        command += ["--set", assignment]
    return command


def worker_environment(worker: int, plan: Plan) -> dict[str, str] | None:
    """The environment of worker ``worker``: this one, with the plan's thread variables and
    its device alone visible if any (``None``: this one as it is)."""
    device = device_for(worker, plan.devices)
    changes = {**plan.threads, **({} if device is None else {VARIABLE: device})}
    return {**os.environ, **changes} if changes else None


def start_workers(plan: Plan, command: list[str]) -> Processes:
    """Start the workers of the plan that run in processes of their own: all of them with
    devices (worker i seeing device i mod their number alone), else all but worker 0 (this
    process). Each waits for :func:`send_orders`."""
    first = 0 if plan.devices else 1
    return [subprocess.Popen(command, stdin=subprocess.PIPE, env=worker_environment(i, plan))
            for i in range(first, plan.count)]


def send_orders(processes: Processes, orders: Orders) -> None:
    """Set the waiting workers going (a worker that has died already is left to the reaper)."""
    line = (json.dumps(attrs.asdict(orders)) + "\n").encode()
    for process in processes:
        with contextlib.suppress(BrokenPipeError, OSError):
            assert process.stdin is not None
            process.stdin.write(line)
            process.stdin.close()


def dismiss(processes: Processes) -> None:
    """Tell the waiting workers there is nothing to do (the end of their input), and wait for them."""
    for process in processes:
        with contextlib.suppress(BrokenPipeError, OSError):
            assert process.stdin is not None
            process.stdin.close()
    for process in processes:
        process.wait()


def receive_orders(source: IO[str] | None = None) -> Orders | None:
    """A worker's orders from the command that started it; ``None`` when it stopped first."""
    line = (source or sys.stdin).readline()
    if not line.strip():
        return None
    return Orders(**json.loads(line))


def run_workers(processes: Processes, *, here: Callable[[], None] | None = None) -> list[int]:
    """Wait for the started workers, running ``here()`` meanwhile (this process's own trials);
    returns their exit codes.

    Ctrl-C, or an error in ``here``, is passed on to every process as SIGINT, and they are
    waited for before it goes on.
    """
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

    def __init__(self, processes: Processes):
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
