"""A plugin module that kills its own process at a chosen step, as a preempted or crashed job dies.

Load it with ``engine -p engine.testing.kill_at run ...`` (or list it in ``[run] plugins``): at
the end of step ``$KILL_AT`` (unset or 0: never) it sends its process ``$KILL_SIGNAL`` (a signal
name; ``SIGKILL`` when unset, ``SIGTERM`` for a preemption the run stops cleanly at).
"""

import os
import signal

from engine._core.hookspecs import hookimpl


@hookimpl
def on_step(run):  # type: ignore[no-untyped-def]
    if run.step == int(os.environ.get("KILL_AT", "0") or 0):
        os.kill(os.getpid(), getattr(signal, os.environ.get("KILL_SIGNAL") or "SIGKILL"))
