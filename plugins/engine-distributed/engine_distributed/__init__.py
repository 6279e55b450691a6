"""engine-distributed: the ``ddp`` and ``fsdp`` strategies (torch, launched by torchrun) and
``dask`` (XGBoost and LightGBM on a Dask cluster). Nothing heavy is imported here."""

__version__ = "0.1.0"
