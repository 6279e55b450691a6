"""Weights & Biases tracker for engine: the spec as config, metrics at their steps, summary and model."""
