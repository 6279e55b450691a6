"""engine-deepspeed: the ``deepspeed`` strategy (ZeRO stages 1-3) for the torch backend.

Nothing heavy is imported here: deepspeed loads only when a spec selects the strategy.
"""

__version__ = "0.1.0"
