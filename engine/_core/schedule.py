"""What a learning-rate schedule component offers any backend.

A ``scheduler`` component is a function of the run's progress, so torch optimizers and
boosting rounds take their learning rate from the same object, and resuming needs no replay.
A schedule that reacts to metrics (reduce-on-plateau) implements ``on_eval`` and keeps its
state with ``state_dict``/``load_state_dict``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine._core.run import Run


@runtime_checkable
class Schedule(Protocol):
    def factor(self, run: Run) -> float:
        """Multiplier of the base learning rate for the step about to run (``run.step + 1``).

        ``run.step_limit`` gives the total number of steps where a schedule
        needs it (cosine decay, warmup as a fraction of the run).
        """
