"""``python -m engine_distributed.launch --nproc N -- run SPEC …``: what ``engine run --nproc N`` runs.

torch's own launcher (torchrun, ``torch.distributed.run``) starts ``python -m engine run …``
N times on this machine with a rendezvous on a free local port. When one worker fails,
torchrun stops the others; this prints one line per failed worker instead of torchrun's
report, and exits with the worker's status.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import uuid
from collections.abc import Sequence


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
