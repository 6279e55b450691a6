"""A sampler seeded per trial, so the workers of one study never repeat each other.

Every worker used to build its sampler from the study's seed: two workers drew the same
values in the same order (trials 0 = 1, 2 = 3, …), and a resumed study drew its first values
again. Here the sampler is built afresh for each trial from ``(study seed, trial number)``.
The storage gives every trial its own number, whichever worker or machine runs it, so no two
trials share a seed; one worker with a seed still draws the same study every time, and a
resumed study goes on with new numbers, hence new seeds. Samplers read the study's history
from its storage, not from their own memory, so a fresh instance per trial loses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

#: Samplers whose seed must stay the same for the whole study: the grid's order, the
#: scrambling of a quasi-random sequence (its points are numbered by the storage already).
STUDY_WIDE_SEED = frozenset({"grid", "qmc"})


def trial_seed(study_seed: int, trial_number: int) -> int:
    """A 32-bit seed for one trial, different for every trial number of a study."""
    digest = hashlib.sha256(f"engine-optuna:{study_seed}:{trial_number}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def seeded_per_trial(build: Callable[[int], Any], study_seed: int) -> Any:
    """A sampler that builds ``build(trial_seed(study_seed, number))`` at the start of each trial
    and hands every call of that trial to it."""
    from optuna.samplers import BaseSampler

    class TrialSeededSampler(BaseSampler):  # type: ignore[misc]
        def __init__(self) -> None:
            self._inner = build(study_seed)

        def before_trial(self, study: Any, trial: Any) -> None:
            self._inner = build(trial_seed(study_seed, trial.number))
            self._inner.before_trial(study, trial)

        def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
            return self._inner.infer_relative_search_space(study, trial)

        def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
            return self._inner.sample_relative(study, trial, search_space)

        def sample_independent(self, study: Any, trial: Any, param_name: str, param_distribution: Any) -> Any:
            return self._inner.sample_independent(study, trial, param_name, param_distribution)

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            self._inner.after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            self._inner.reseed_rng()

    return TrialSeededSampler()
