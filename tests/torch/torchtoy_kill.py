"""A local plugin that SIGKILLs its own process at step ``$TORCHTOY_KILL_AT`` (unset: does nothing)."""

from __future__ import annotations

import os
import signal
from typing import Any

from engine import hookimpl

KILL_AT = int(os.environ.get("TORCHTOY_KILL_AT", "0"))


@hookimpl
def on_step(run: Any) -> None:
    if KILL_AT and run.step == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
