"""Writes the tiny text-classification task of examples/text_classification_transformers.toml
next to this file, with nothing downloaded:

- ``sentiment_{train,val,test}.csv``: generated reviews (``text``, ``label``; label 1 when the
  text holds more positive than negative words among filler words), 2000/400/400 rows;
- ``tiny-bert/``: a 2-layer BERT (hidden size 32, randomly initialised) and a WordPiece
  tokenizer trained on the training texts, written with ``save_pretrained``.

The files are committed; run this only to make them again (needs engine-transformers):

    python examples/data/make_sentiment_text.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from engine_transformers import make_tiny_checkpoint, synthetic_sentiment

SIZES = {"train": 2000, "val": 400, "test": 400}


def main() -> None:
    here = Path(__file__).resolve().parent
    rows = synthetic_sentiment(sum(SIZES.values()), seed=0)
    start = 0
    for name, size in SIZES.items():
        with (here / f"sentiment_{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(rows[start:start + size])
        start += size
    make_tiny_checkpoint(here / "tiny-bert", [text for text, _ in rows[:SIZES["train"]]], num_labels=2, seed=0)


if __name__ == "__main__":
    main()
