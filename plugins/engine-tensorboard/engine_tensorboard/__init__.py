"""TensorBoard tracker for engine, written with TensorBoard's own event writer (no torch, no TensorFlow)."""
