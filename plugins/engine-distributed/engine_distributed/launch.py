"""``engine run --nproc N``: the same command in N local processes under torchrun.

:func:`relaunch` checks the request and runs ``python -m engine_distributed.launch --nproc N --
run SPEC …`` (:func:`main`) in a child process, passing a SIGTERM on to it. There torch's own
launcher (torchrun, ``torch.distributed.run``) starts ``python -m engine run …`` N times on
this machine with a rendezvous on a free local port. When one worker fails, torchrun stops the
others; this prints one line per failed worker instead of torchrun's report, and exits with the
worker's status.

With ``--max-restarts K`` torchrun's elastic agent restarts the whole group instead, up to K
times; every restarted worker resumes the run from its newest committed checkpoint (a restart
count above 0 means ``--resume``, :mod:`engine._core.elastic` in the core). This prints one line
per restart naming the worker that failed and how, and passes the causes to the restarted
workers (``ENGINE_RESTART_CAUSES``), whose ``summary.json`` records them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence

from engine import EngineError, parallelism_problems, usable_cores

#: Set by ``engine run --nproc 1`` in this process: one process was asked for, so a ``ddp`` or
#: ``fsdp`` run does not warn that it runs as one.
one_process_requested = False


#: The variable that passes the causes of the restarts so far to the workers of a restarted group
#: (read by the core into ``summary.json``'s ``restarts``).
CAUSES = "ENGINE_RESTART_CAUSES"


def check_max_restarts(nproc: int | None, max_restarts: int | None) -> None:
    """Refuse ``--max-restarts`` that cannot work: without ``--nproc``, or negative."""
    if max_restarts is None:
        return
    if nproc is None:
        raise EngineError(f"--max-restarts {max_restarts} restarts the workers of --nproc, which was not given",
                          fix="add --nproc N, or pass --max-restarts to torchrun when it starts the workers")
    if max_restarts < 0:
        raise EngineError(f"--max-restarts {max_restarts}: the number of restarts cannot be negative",
                          fix="pass 0 or more, or leave it out")


def relaunch(nproc: int, argv: Sequence[str], *, max_restarts: int = 0) -> int:
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
                          fix=f"pass at most {usable_cores()} (its cores)")
    if "TORCHELASTIC_RUN_ID" in os.environ or "WORLD_SIZE" in os.environ:
        raise EngineError("--nproc was given to a process that torchrun already started",
                          fix="drop --nproc from the command torchrun runs")
    if importlib.util.find_spec("torch") is None:
        raise EngineError(f"--nproc {nproc} needs torch, which is not installed",
                          fix="pip install 'engine-distributed[torch]', or drop --nproc")
    command = [sys.executable, "-m", "engine_distributed.launch", "--nproc", str(nproc),
               *(["--max-restarts", str(max_restarts)] if max_restarts else []), "--", *_without_nproc(argv)]
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
    """``argv`` without the launcher's own options (``--nproc``, ``--max-restarts``)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--nproc", "--max-restarts"):
            skip = True
        elif not arg.startswith(("--nproc=", "--max-restarts=")):
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``engine ARGS`` in ``--nproc N`` local processes: ``--nproc N [--max-restarts K] -- ARGS``."""
    given = list(sys.argv[1:] if argv is None else argv)
    max_restarts = 0
    if len(given) >= 3 and given[2] == "--max-restarts":
        max_restarts, given = int(given[3]), given[:2] + given[4:]
    if len(given) < 3 or given[0] != "--nproc" or given[2] != "--":
        print("usage: python -m engine_distributed.launch --nproc N [--max-restarts K] -- run SPEC [...]",
              file=sys.stderr)
        return 2
    nproc, command = int(given[1]), given[3:]

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import elastic_launch
    from torch.distributed.run import config_from_args, get_args_parser

    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    if max_restarts:
        RestartReporter.install(max_restarts)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default, without its warning
    torchrun = get_args_parser().parse_args([
        f"--nproc-per-node={nproc}", "--nnodes=1", "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0",
        f"--rdzv-id={uuid.uuid4().hex}", f"--max-restarts={max_restarts}", "--monitor-interval=0.5",
        "-m", "engine", *command])
    config, entrypoint, script_args = config_from_args(torchrun)
    try:
        elastic_launch(config, entrypoint)(*script_args)
    except ChildFailedError as exc:
        return _report(exc)
    except SignalException as exc:  # SIGTERM/SIGINT: the workers were asked to stop and have stopped
        return 128 + int(exc.sigval)
    return 0


def _how(code: int) -> str:
    """``was killed by SIGKILL`` or ``exited with status 7``."""
    return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"


class RestartReporter(logging.Handler):
    """Announces each restart of the group by torch's elastic agent, with its cause.

    The agent says nothing to its caller between two attempts; it logs the first failed
    worker (``torch.distributed.elastic.multiprocessing.api``) and then that it restarts the
    group (``torch.distributed.elastic.agent.server.api``), both in this process right before
    it starts the new workers. This reads those two records: it prints one line per restart
    and sets :data:`CAUSES` in this process's environment, which the new workers inherit.
    """

    FAILED = "torch.distributed.elastic.multiprocessing.api"
    AGENT = "torch.distributed.elastic.agent.server.api"

    def __init__(self, max_restarts: int):
        super().__init__(logging.INFO)
        self.max_restarts = max_restarts
        self.failure: tuple[int, int] | None = None  # (rank, exit code) of the first failed worker
        self.causes: list[dict[str, object]] = []

    @classmethod
    def install(cls, max_restarts: int) -> RestartReporter:
        """Listen to the agent's two loggers, and let nothing else of theirs through."""
        reporter = cls(max_restarts)
        os.environ.pop(CAUSES, None)
        for name in (cls.FAILED, cls.AGENT):
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO)
            logger.handlers = [reporter]
            logger.propagate = False
        return reporter

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.name == self.FAILED and str(record.msg).startswith("failed (exitcode") and len(args) >= 2:
            self.failure = (int(str(args[1])), int(str(args[0])))  # single node: the local rank is the rank
        elif record.name == self.AGENT and "will restart worker group" in str(record.msg):
            self._restarting()

    def _restarting(self) -> None:
        number = len(self.causes) + 1
        rank, code = self.failure if self.failure is not None else (None, None)
        self.failure = None
        self.causes.append({"restart": number, "rank": rank, "exit_code": code,
                            "signal": signal.Signals(-code).name if code is not None and code < 0 else None})
        os.environ[CAUSES] = json.dumps(self.causes)
        what = f"worker rank {rank} {_how(code)}" if rank is not None and code is not None else "a worker failed"
        print(f"engine: restart {number} of {self.max_restarts}: {what}; every worker restarts from the "
              "newest committed checkpoint", file=sys.stderr, flush=True)


def _report(exc: BaseException) -> int:
    """One line per worker that failed of its own accord, and the exit status of the first.

    Workers torchrun stopped with SIGTERM because another failed are not named (unless every
    failure is one: then the job itself was stopped). Workers that all exited with status 2
    (a mistake in the spec or the command line, which each printed) add no line of their own.
    """
    failures = {rank: int(failure.exitcode) for rank, failure in getattr(exc, "failures", {}).items()}
    causes = {rank: code for rank, code in failures.items() if code != -signal.SIGTERM} or failures
    if causes and all(code == 2 for code in causes.values()):
        return 2
    status = 1
    for rank, code in sorted(causes.items()):
        print(f"engine: error: worker rank {rank} {_how(code)}; every worker was stopped"
              " (its own error is above)", file=sys.stderr)
        if code > 0 and status == 1:
            status = code
    return status


if __name__ == "__main__":
    raise SystemExit(main())
