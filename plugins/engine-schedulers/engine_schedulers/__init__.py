"""Learning-rate schedules for engine, as ``scheduler`` components.

Each schedule gives ``factor(run)``, the multiplier of the backend's base lr for the next
step; see the README for the curves and their options.
"""
