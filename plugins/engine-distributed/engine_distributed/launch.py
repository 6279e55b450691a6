"""``engine run --nproc N``: the same command in N local processes under torchrun.

:func:`relaunch` checks the request and runs ``python -m engine_distributed.launch --nproc N --
run SPEC …`` (:func:`main`) in a child process, passing a SIGTERM on to it. There torch's own
launcher (torchrun, ``torch.distributed.run``) starts ``python -m engine run …`` N times on
this machine with a rendezvous on a free local port. When one worker fails, torchrun stops the
others; this prints one line per failed worker instead of torchrun's report, and exits with the
worker's status.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence

from engine import EngineError, parallelism_problems

#: Set by ``engine run --nproc 1`` in this process: one process was asked for, so a ``ddp`` or
#: ``fsdp`` run does not warn that it runs as one.
one_process_requested = False


def relaunch(nproc: int, argv: Sequence[str]) -> int:
    """Run ``engine ARGV`` (the command line as given, with ``--nproc N``) as ``nproc`` processes.

    Each starts ``python -m engine run ...`` without ``--nproc``, with ``RANK``/``WORLD_SIZE``
    set; the runs read them. Returns the exit status; a request that cannot work is one
    :class:`engine.EngineError` line, before any process starts.
    """
    if nproc < 1:
        raise EngineError(f"--nproc {nproc}: the number of processes must be at least 1",
                          fix="pass --nproc 2 or more, or leave it out")
    if parallelism_problems({"nproc": nproc}, where="run"):
        raise EngineError(f"--nproc {nproc}: more processes than this machine can run",
                          fix=f"pass at most {_usable_cores()} (its cores)")
    if "TORCHELASTIC_RUN_ID" in os.environ or "WORLD_SIZE" in os.environ:
        raise EngineError("--nproc was given to a process that torchrun already started",
                          fix="drop --nproc from the command torchrun runs")
    if importlib.util.find_spec("torch") is None:
        raise EngineError(f"--nproc {nproc} needs torch, which is not installed",
                          fix="pip install 'engine-distributed[torch]', or drop --nproc")
    command = [sys.executable, "-m", "engine_distributed.launch", "--nproc", str(nproc), "--",
               *_without_nproc(argv)]
    launcher = subprocess.Popen(command)
    # Ctrl-C reaches the workers from the terminal; a SIGTERM sent to this process is passed on
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
                signal.SIGTERM: signal.signal(signal.SIGTERM, lambda signum, _: launcher.send_signal(signum))}
    try:
        return launcher.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _without_nproc(argv: Sequence[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def _usable_cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return max(len(affinity(0)) if affinity is not None else os.cpu_count() or 1, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``engine ARGS`` in ``--nproc N`` local processes: ``--nproc N -- ARGS``."""
    given = list(sys.argv[1:] if argv is None else argv)
    if len(given) < 3 or given[0] != "--nproc" or given[2] != "--":
        print("usage: python -m engine_distributed.launch --nproc N -- run SPEC [...]", file=sys.stderr)
        return 2
    nproc, command = int(given[1]), given[3:]

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch
    from torch.distributed.run import config_from_args, get_args_parser

    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default, without its warning
    torchrun = get_args_parser().parse_args([
        f"--nproc-per-node={nproc}", "--nnodes=1", "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0",
        f"--rdzv-id={uuid.uuid4().hex}", "--max-restarts=0", "--monitor-interval=0.5",
        "-m", "engine", *command])
    config, entrypoint, script_args = config_from_args(torchrun)
    try:
        elastic_launch(config, entrypoint)(*script_args)
    except ChildFailedError as exc:
        return _report(exc)
    except SignalException as exc:  # SIGTERM/SIGINT: the workers were asked to stop and have stopped
        return 128 + int(exc.sigval)
    return 0


def _report(exc: BaseException) -> int:
    failures = getattr(exc, "failures", {})
    status = 1
    for rank, failure in sorted(failures.items()):
        code = int(failure.exitcode)
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        print(f"engine: error: worker rank {rank} {how}; every worker was stopped"
              " (its own error is above)", file=sys.stderr)
        if code > 0 and status == 1:
            status = code
    return status


if __name__ == "__main__":
    raise SystemExit(main())
