"""The engine's private implementation: import the public face (``engine``, ``engine.session``,
``engine.testing``) instead; anything here may change in any release."""

__version__ = "0.1.0"
