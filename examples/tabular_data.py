"""Small tabular datasets bundled with scikit-learn, as DataFrames with a ``label`` column.

Used by the tabular examples as ``data.train = "examples.tabular_data:breast_cancer"``.
"""

from __future__ import annotations

import pandas as pd


def _frame(loader: object) -> pd.DataFrame:
    bunch = loader(as_frame=True)  # type: ignore[operator]
    frame = bunch.frame.rename(columns={"target": "label"})
    frame.columns = [str(c).replace(" ", "_").replace("/", "_") for c in frame.columns]
    return frame


def breast_cancer() -> pd.DataFrame:
    """569 tumours, 30 numeric features, binary label (1 = benign)."""
    from sklearn.datasets import load_breast_cancer

    return _frame(load_breast_cancer)


def wine() -> pd.DataFrame:
    """178 wines, 13 numeric features, three classes."""
    from sklearn.datasets import load_wine

    return _frame(load_wine)


def diabetes() -> pd.DataFrame:
    """442 patients, 10 numeric features, a continuous disease-progression label."""
    from sklearn.datasets import load_diabetes

    return _frame(load_diabetes)
