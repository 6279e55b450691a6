"""What the boosted-tree backends share: their round-per-step skeleton, the learning rate per
round, and resume with sampling."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import write_atomic

if TYPE_CHECKING:
    from engine import Run
    from engine_tabular.load import Splits


class RoundBackend:
    """The part of a boosted-tree backend that does not depend on the library.

    One engine step is one boosting round, so an epoch is one step; training metrics are the
    learning rate of the last round. ``remote`` is set by a strategy that trains each round
    elsewhere (engine-distributed's ``dask``).
    """

    def __init__(self, options: Any):
        self.options = options
        self.params: dict[str, Any] = {}
        self.booster: Any = None
        self.splits: Splits | None = None
        self.sampling: dict[str, Any] = {}
        self.rates: RoundRates
        self._run: Run | None = None
        #: Rounds trained elsewhere: ``round(model, params) -> model``.
        self.remote: Any = None

    @property
    def steps_per_epoch(self) -> int:
        return 1

    def train_metrics(self) -> dict[str, float]:
        return self.rates.metrics()

    #: The file extension of an exported model.
    extension = ""

    def model_bytes(self, rounds: int | None = None) -> bytes:
        """The native model with every round, or with its first ``rounds`` rounds."""
        raise NotImplementedError

    def export(self, directory: Path, tag: str) -> Path:
        """``<directory>/<tag>.<extension>``: the native model with every round and its feature names."""
        return self._write_model(directory, tag, self.model_bytes())

    def export_as_of(self, directory: Path, tag: str, step: int) -> Path | None:
        """The model as it was after ``step`` rounds: its first ``step`` trees, cut from the current one."""
        return self._write_model(directory, tag, self.model_bytes(step))

    def _write_model(self, directory: Path, tag: str, model: bytes) -> Path:
        return write_atomic(directory / f"{tag}.{self.extension}", model)

    def _warn(self, message: str) -> None:
        if self._run is not None:

            self._run.warn(message)


class RoundRates:
    """The learning rate of each boosting round: ``factor(run)`` of the ``[scheduler]`` × the base.

    The rates used so far are kept (``history``) so a resume can replay the same rounds.
    Without a scheduler the library keeps its own rate and nothing is set per round.
    """

    def __init__(self, run: Run, base: float):
        self.scheduler: Any = run.components.get("scheduler")
        self.base = float(base)
        self.current = self.base
        self.history: list[float] = []

    @property
    def active(self) -> bool:
        return self.scheduler is not None

    def next(self, run: Run) -> float:
        """The rate for round ``run.step + 1`` (call before the round)."""
        self.current = self.base * float(self.scheduler.factor(run))
        self.history.append(self.current)
        return self.current

    def metrics(self) -> dict[str, float]:
        return {"lr": self.current} if self.active else {}


def sampling_warning(library: str, sampling: dict[str, Any]) -> str:
    """The warning for a resume that cannot be exact because the sampler's state is not saved."""
    names = ", ".join(f"{k}={v!r}" for k, v in sorted(sampling.items()))
    return (f"resuming {library} with sampling ({names}) continues from the saved trees, but {library} "
            "does not save its sampler's random state: the result differs from an uninterrupted run "
            "(set backend.exact_resume = true to replay the rounds instead)")


def replay_mismatch_warning(library: str) -> str:
    return (f"replaying the {library} rounds did not reproduce the checkpoint's model (did the data, "
            "the parameters or the library version change?); continuing from the checkpoint's model")
