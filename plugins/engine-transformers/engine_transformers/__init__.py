"""engine-transformers: the ``transformers`` backend of engine (Hugging Face models from a spec).

A tiny checkpoint for tests and examples, made offline (a WordPiece tokenizer trained on the
given texts and a small BERT), loadable by ``from_pretrained``::

    from engine_transformers import make_tiny_checkpoint
    make_tiny_checkpoint("tiny-bert", texts, num_labels=2)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["make_tiny_checkpoint", "synthetic_sentiment"]


def make_tiny_checkpoint(folder: str | Path, texts: list[str], *, num_labels: int = 2, vocab_size: int = 400,
                         hidden: int = 32, layers: int = 2, heads: int = 2, max_length: int = 64,
                         dropout: float = 0.0, seed: int = 0) -> Path:
    """Write a small BERT (randomly initialised from ``seed``; ``dropout`` in its config) and a
    WordPiece tokenizer trained on ``texts`` to ``folder`` with ``save_pretrained``; nothing is
    downloaded. Returns the folder."""
    from engine_transformers.tiny import make_tiny_checkpoint as make

    return make(folder, texts, num_labels=num_labels, vocab_size=vocab_size, hidden=hidden, layers=layers,
                heads=heads, max_length=max_length, dropout=dropout, seed=seed)


def synthetic_sentiment(rows: int, seed: int = 0) -> list[tuple[str, int]]:
    """``rows`` generated ``(text, label)`` pairs of a two-class task (label 1: more positive
    than negative words among filler), the same for the same seed."""
    from engine_transformers.tiny import synthetic_sentiment as make

    return make(rows, seed)
