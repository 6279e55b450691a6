"""Options of the ``mlflow`` tracker (``[[tracker]] use = "mlflow"``)."""

from __future__ import annotations

import attrs

from engine import PositiveFloat, TrackerOptions


@attrs.define(kw_only=True)
class MlflowOptions(TrackerOptions):
    """Params, metrics, tags, the spec and the exported model, in an MLflow run."""

    tracking_uri: str = ""
    """``http://host:5000``, ``databricks``, ``sqlite:///mlflow.db``, a folder, ... Default:
    ``$MLFLOW_TRACKING_URI`` if set, else a local file store in ``<run dir>/mlruns``."""
    experiment: str = ""
    """MLflow experiment, created if missing. Default: the run's name."""
    run_name: str = ""
    """Name of the MLflow run. Default: the run's name (``-fold<k>`` added under ``[cv]``)."""
    tags: dict[str, str] = attrs.field(factory=dict)
    """Extra tags set on the MLflow run (values under secret-looking names are redacted)."""
    log_params: bool = True
    """Record the effective spec as params (dotted keys, secrets redacted)."""
    log_artifacts: bool = True
    """Upload ``spec.toml``, ``env.json``, ``summary.json`` and the exported model files."""
    flush_secs: PositiveFloat = 5.0
    """Send buffered metrics at least this often (one ``log_batch`` request); they are also
    sent at the first log, at every checkpoint and at the end."""
