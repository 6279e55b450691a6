"""The spec: TOML in, typed options out, every problem reported in one pass."""

from engine.spec.load import load_spec, parse_spec
from engine.spec.model import Configured, Spec

__all__ = ["Configured", "Spec", "load_spec", "parse_spec"]
