"""Keep filesystem libraries off Python's global ``random``.

The global generator is training state: the loop seeds it and every checkpoint restores it.
botocore draws retry jitter from it and aiohttp shuffles connection waiters with it, from
the background thread of an asynchronous save too, which would shift a training run's random
sequence whenever a request is retried. Those modules get a private generator instead.
"""

from __future__ import annotations

import random
import sys

_PRIVATE = random.Random()
#: Modules that call ``random.<function>`` on the module they imported as ``random``.
_MODULES = ("botocore.retryhandler", "botocore.utils", "aiohttp.connector")


def isolate_random() -> None:
    """Point the already-imported libraries' ``random`` at a private generator (idempotent)."""
    for name in _MODULES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "random", None) is random:
            module.random = _PRIVATE  # type: ignore[attr-defined]
    standard = sys.modules.get("botocore.retries.standard")
    backoff = getattr(standard, "ExponentialBackoff", None)
    defaults = getattr(getattr(backoff, "__init__", None), "__defaults__", None)
    if backoff is not None and defaults and random.random in defaults:
        backoff.__init__.__defaults__ = tuple(_PRIVATE.random if d == random.random else d for d in defaults)
