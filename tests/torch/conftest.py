"""The torch backend's tests import their helpers from torch_helpers and torchtoy (this folder)."""
