"""engine-fsspec: checkpoints at any fsspec URL, committed by a manifest written last."""

__version__ = "0.1.0"
