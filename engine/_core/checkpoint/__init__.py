"""Checkpoints: every participant's state, stored without pickle, committed by a manifest."""
