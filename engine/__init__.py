"""engine: a plugin-based training engine.

Plugins implement hooks from :mod:`engine._core.hookspecs` with the :data:`hookimpl` marker::

    import engine

    @engine.hookimpl
    def on_eval(run, metrics):
        print(run.step, metrics)
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations in plugins.
hookimpl = pluggy.HookimplMarker("engine")

__all__ = ["__version__", "hookimpl"]
