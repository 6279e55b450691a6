"""A prepared table: numeric/categorical features, label, optional weight and group ids."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from engine import EngineError
from engine_tabular.options import TabularDataOptions


@attrs.define
class Table:
    """Rows ready for a library: ``features`` keeps column names and categorical dtypes."""

    features: pd.DataFrame
    label: np.ndarray
    weight: np.ndarray | None = None
    group: np.ndarray | None = None
    #: Class names when the label column held strings (the label holds their codes).
    classes: list[str] = attrs.field(factory=list)

    def __len__(self) -> int:
        return len(self.label)

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.features.columns]

    @property
    def categorical(self) -> list[str]:
        dtypes = self.features.dtypes  # one Series: indexing the frame per column costs ~50 µs each
        return [str(c) for c, dtype in dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]

    def take(self, rows: Sequence[int] | np.ndarray) -> Table:
        """The given rows, in the given order."""
        index = np.asarray(rows, dtype=np.int64)
        return Table(
            self.features.iloc[index].reset_index(drop=True),
            self.label[index],
            None if self.weight is None else self.weight[index],
            None if self.group is None else self.group[index],
            list(self.classes),
        )

    def group_sizes(self) -> list[int]:
        """Sizes of consecutive runs of equal group ids (what LightGBM calls ``group``)."""
        assert self.group is not None
        if len(self.group) == 0:
            return []
        starts = np.flatnonzero(np.r_[True, self.group[1:] != self.group[:-1]])
        return np.diff(np.r_[starts, len(self.group)]).astype(int).tolist()


def _columns_hint(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"the columns are: {shown}"


def _require(frame: pd.DataFrame, column: str, key: str, source: str) -> None:
    if column not in frame.columns:
        raise EngineError(f"column {column!r} is not in {source}", where=f"backend.data.{key}",
                          fix=f"set backend.data.{key} to one of the columns; {_columns_hint(frame)}")


def prepare(frame: pd.DataFrame, options: TabularDataOptions, *, source: str,
            like: Table | None = None, where: str = "backend.data.valid") -> Table:
    """Split a frame into features and label/weight/group, checking every column.

    ``like`` is the training table when preparing validation (or test) rows: the same feature
    columns, in the same order, with the same categories; ``where`` names their spec key.
    """
    _require(frame, options.label, "label", source)
    special = [options.label]
    for key in ("weight", "group"):
        column = getattr(options, key)
        if column:
            _require(frame, column, key, source)
            special.append(column)
    for key in ("categorical", "drop"):
        for column in getattr(options, key):
            _require(frame, column, key, source)
    features = frame.drop(columns=[*special, *options.drop])
    if like is not None:
        missing = [c for c in like.feature_names if c not in features.columns]
        if missing:
            raise EngineError(f"{source} lacks the training columns {', '.join(map(repr, missing))}",
                              where=where, fix="give it the same columns as the training data")
        extra = [str(c) for c in features.columns if str(c) not in like.feature_names]
        if extra:
            raise EngineError(f"{source} has {len(features.columns)} feature columns, the training data "
                              f"{len(like.feature_names)}: it also has {', '.join(map(repr, extra[:5]))}"
                              f"{', ...' if len(extra) > 5 else ''}", where=where,
                              fix="give it the same feature columns as the training data")
        features = features[like.features.columns]
    features = _encode_features(features, options, source, like)
    label, classes = _encode_label(frame[options.label], like, source)
    if len(features.columns) == 0:
        raise EngineError(f"{source} has no feature columns left", where="backend.data",
                          fix="check backend.data.label, weight, group and drop")
    weight = frame[options.weight].to_numpy(dtype=np.float64) if options.weight else None
    group = frame[options.group].to_numpy() if options.group else None
    return Table(features.reset_index(drop=True), label, weight, group, classes)


def _encode_features(features: pd.DataFrame, options: TabularDataOptions, source: str,
                     like: Table | None) -> pd.DataFrame:
    declared = set(options.categorical)
    bad = [str(c) for c in features.columns if str(c) not in declared
           and not (ptypes.is_numeric_dtype(features[c]) or ptypes.is_bool_dtype(features[c]))]
    if bad:
        raise EngineError(f"{source} has non-numeric columns not declared categorical: {', '.join(map(repr, bad))}",
                          where="backend.data.categorical",
                          fix="list them in backend.data.categorical, or in backend.data.drop to ignore them")
    _refuse_infinite(features, declared, source)
    out = features.copy()
    for column in options.categorical:
        if column not in out.columns:
            continue
        if like is not None:
            categories = like.features[column].cat.categories
            out[column] = pd.Categorical(out[column], categories=categories)
        else:
            out[column] = out[column].astype("category")
    return out


def _encode_label(column: pd.Series, like: Table | None, source: str) -> tuple[np.ndarray, list[str]]:
    """Numeric labels as they are; string labels as codes of their sorted names."""
    if ptypes.is_numeric_dtype(column) or ptypes.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        missing = int(np.isnan(values).sum())
        if missing:
            raise EngineError(f"the label column {column.name!r} of {source} has {missing} missing values",
                              where="backend.data.label", fix="drop or fill those rows")
        infinite = np.flatnonzero(np.isinf(values))
        if len(infinite):
            raise EngineError(f"the label column {column.name!r} of {source} has {len(infinite)} infinite "
                              f"value(s) (first in data row {infinite[0] + 1})", where="backend.data.label",
                              fix="drop those rows or give them finite labels")
        return values, []
    classes = list(like.classes) if like is not None and like.classes else sorted(map(str, column.dropna().unique()))
    codes = pd.Categorical(column.astype(str), categories=classes).codes
    if (codes < 0).any():
        unknown = sorted(set(column.astype(str)) - set(classes))
        raise EngineError(f"label values {unknown[:5]} do not occur in the training data", where="backend.data.label",
                          fix="make the validation labels a subset of the training labels")
    return codes.astype(np.float64), classes


def _refuse_infinite(features: pd.DataFrame, categorical: set[str], source: str) -> None:
    """An infinite feature value is refused (a missing one, NaN or an empty cell, is allowed)."""
    floats = [c for c, dtype in features.dtypes.items() if str(c) not in categorical and ptypes.is_float_dtype(dtype)]
    if not floats:
        return
    infinite = np.isinf(features[floats].to_numpy(dtype=np.float64))
    if not infinite.any():
        return
    column = int(infinite.any(axis=0).argmax())
    rows = np.flatnonzero(infinite[:, column])
    raise EngineError(f"column {str(floats[column])!r} of {source} has {len(rows)} infinite value(s) "
                      f"(first in data row {rows[0] + 1})", where="backend.data",
                      fix="replace them with finite values, or leave the cells empty (a missing value)")
