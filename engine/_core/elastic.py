"""A worker group restarted by torchrun's elastic agent (``--max-restarts``).

torchrun sets ``TORCHELASTIC_RESTART_COUNT`` in every worker it starts: 0 for the first
attempt, ``n`` after the ``n``-th restart of the group. A restarted attempt is a resume of the
first attempt's run directory (:func:`engine._core.cli.builtin_commands.run_command`), and
``summary.json`` records the restarts with their causes: ``engine run --nproc N --max-restarts K``
(engine-distributed's launcher) passes them in ``ENGINE_RESTART_CAUSES``, a JSON list of
``{"restart", "rank", "exit_code", "signal"}``; under a plain ``torchrun`` the workers cannot
know them (torchrun's own log names the failed worker), so a cause reads ``unknown``.
"""

from __future__ import annotations

import json
import os
from typing import Any

RESTART_COUNT = "TORCHELASTIC_RESTART_COUNT"
CAUSES = "ENGINE_RESTART_CAUSES"


def restart_count() -> int:
    """How many times torchrun restarted this process's group so far (0 outside torchrun)."""
    try:
        return max(int(os.environ.get(RESTART_COUNT, "0")), 0)
    except ValueError:
        return 0


def restarts() -> dict[str, Any] | None:
    """``summary.json``'s ``restarts``: ``{"count": n, "causes": [...]}`` (one cause per restart,
    oldest first), or ``None`` for a group that was never restarted."""
    count = restart_count()
    if count == 0:
        return None
    try:
        given = json.loads(os.environ.get(CAUSES, "[]"))
    except ValueError:
        given = []
    known = {int(c["restart"]): c for c in given if isinstance(c, dict) and isinstance(c.get("restart"), int)}
    causes = [known.get(n, {"restart": n, "rank": None, "exit_code": None, "signal": None, "cause": "unknown"})
              for n in range(1, count + 1)]
    return {"count": count, "causes": causes}
