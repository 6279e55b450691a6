"""Tabular data shared by the xgboost, lightgbm and sklearn backends.

Light on import: only :mod:`engine_tabular.options` is imported by entry-point modules;
pandas, numpy and fsspec are imported when data is actually loaded (:mod:`engine_tabular.load`).
"""
