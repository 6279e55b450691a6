"""Writes breast_cancer_{train,valid,test}.parquet next to this file from scikit-learn's bundled
breast cancer data (569 rows, 30 features, ``label`` 1 = benign): a seeded, stratified 60/20/20
split. The files are committed; run this only to make them again:

    python examples/data/make_breast_cancer_parquet.py
"""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    train, rest = train_test_split(frame, test_size=0.4, stratify=frame["label"], random_state=0)
    valid, test = train_test_split(rest, test_size=0.5, stratify=rest["label"], random_state=0)
    here = Path(__file__).resolve().parent
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        part.reset_index(drop=True).to_parquet(here / f"breast_cancer_{name}.parquet", index=False)


if __name__ == "__main__":
    main()
