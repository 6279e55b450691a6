"""Seeded row splits: a validation hold-out and cross-validation folds.

With group ids (ranking) whole groups go to one side, and rows keep their original order so
groups stay contiguous. With labels (classification) each class is split in proportion.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from engine import fold_indices


def holdout(n: int, fraction: float, seed: int, *, labels: np.ndarray | None = None,
            groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices, ``fraction`` of the rows (or groups) held out."""
    if groups is not None:
        units, inverse = _units(groups)
        train_u, val_u = holdout(len(units), fraction, seed)
        return _expand(inverse, train_u), _expand(inverse, val_u)
    rng = np.random.default_rng(seed)
    val: list[np.ndarray] = []
    strata = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    for rows in strata:
        shuffled = rng.permutation(rows)
        val.append(shuffled[: round(len(rows) * fraction)])
    val_rows = np.sort(np.concatenate(val)) if val else np.array([], dtype=np.int64)
    train_rows = np.setdiff1d(np.arange(n), val_rows)
    return train_rows, val_rows


def fold(n: int, folds: int, index: int, seed: int, *, labels: np.ndarray | None = None,
         groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices of fold ``index`` of ``folds`` (the core's fold rule)."""
    if groups is not None:
        units, inverse = _units(groups)
        train_u, val_u = fold_indices(len(units), folds, index, seed)
        return _expand(inverse, np.asarray(train_u)), _expand(inverse, np.asarray(val_u))
    strata: Sequence[Hashable] | None = None if labels is None else labels.tolist()
    train_rows, val_rows = fold_indices(n, folds, index, seed, strata)
    return np.asarray(train_rows, dtype=np.int64), np.asarray(val_rows, dtype=np.int64)


def _units(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    units, inverse = np.unique(groups, return_inverse=True)
    return units, inverse


def _expand(inverse: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isin(inverse, chosen))
