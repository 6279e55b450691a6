"""engine-precision: precision modes for the torch backend (auto, 32-true, 64-true, 16-mixed, bf16-mixed, bf16-true)."""
