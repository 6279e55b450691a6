"""A run plugin for the fault tests: SIGKILL the run's own process at step ``$FAULTS_KILL_AT``.

Unset (the uninterrupted and the finishing runs), it does nothing. ``$FAULTS_SIGNAL`` names
another signal to send instead (``SIGTERM``: a preemption, as SLURM or Kubernetes send it).
``$FAULTS_STEP_SECONDS`` slows every step, so a kill aimed from outside can land before a
short run ends.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from engine import hookimpl


@hookimpl
def on_step(run: Any) -> None:
    pause = float(os.environ.get("FAULTS_STEP_SECONDS", "0") or 0)
    if pause:
        time.sleep(pause)
    if run.step == int(os.environ.get("FAULTS_KILL_AT", "0") or 0):
        os.kill(os.getpid(), getattr(signal, os.environ.get("FAULTS_SIGNAL") or "SIGKILL"))
