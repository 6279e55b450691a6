"""The spec: TOML in, typed options out, every problem reported in one pass.

Submodules are imported where used, so that loading plugins stays fast.
"""
