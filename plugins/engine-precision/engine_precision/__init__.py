"""engine-precision: precision modes for the torch backend (64-true, 16-mixed, bf16-mixed, bf16-true)."""
