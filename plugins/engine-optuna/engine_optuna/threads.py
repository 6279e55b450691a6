"""``[tune] threads``: the CPU threads of each worker's libraries, so that N workers share the cores.

An OpenMP library (XGBoost, LightGBM, torch on CPU, scikit-learn's histogram boosting) and a
BLAS take every core of the machine by default. Two workers on two cores then run four busy
threads on two cores, and OpenMP's threads spin while they wait for each other: a study of
XGBoost trials with ``--workers 2`` took 5x as long as with one worker. As Ray Tune sets
``OMP_NUM_THREADS`` from a trial's CPUs, each worker gets ``cores // workers`` threads (at
least one) through the variables these libraries read as they load. ``"auto"`` keeps a
variable the command already has (the user's own choice); ``threads = N`` sets N for every
worker, one worker included. One worker with ``"auto"`` keeps the libraries' defaults.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from engine import parallelism_problems, usable_cores

#: What OpenMP runtimes, OpenBLAS and MKL read as they load.
VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def threads_problems(threads: Any) -> list[str]:
    """One line if ``tune.threads`` is neither ``"auto"`` nor a thread count this machine can run."""
    if threads == "auto":
        return []
    if isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1:
        return parallelism_problems({"threads": threads}, where="tune")
    return [f'tune.threads: cannot use {threads!r} — write "auto" (the cores shared out among the '
            "workers) or a number of threads for each worker"]


def thread_variables(threads: Any, workers: int) -> dict[str, str]:
    """The variables to set in each worker's environment (none for one worker with ``"auto"``)."""
    if isinstance(threads, int) and not isinstance(threads, bool):
        return dict.fromkeys(VARIABLES, str(threads))
    if workers < 2:
        return {}
    share = str(max(1, usable_cores() // workers))
    return {name: share for name in VARIABLES if name not in os.environ}


def shown_threads(variables: Mapping[str, str]) -> str:
    """``", 2 threads each"`` for the command's status line: what OpenMP libraries will use."""
    count = variables.get("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS"))
    if count is None:
        return ""
    return f", {count} thread{'' if count == '1' else 's'} each"


@contextlib.contextmanager
def own_threads(variables: Mapping[str, str]) -> Iterator[None]:
    """This process (worker 0) with ``variables`` set, before the spec's libraries load, and
    its environment as it was afterwards (for a caller that goes on in the same process)."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
