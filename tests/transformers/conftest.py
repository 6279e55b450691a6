"""The transformers backend's tests import their helpers from hf_helpers (this folder)."""
