"""Options of the ``mlflow`` tracker (``[[tracker]] use = "mlflow"``)."""

from __future__ import annotations

from typing import Literal

import attrs

from engine import PositiveFloat, TrackerOptions


@attrs.define(kw_only=True)
class MlflowOptions(TrackerOptions):
    """Params, metrics, tags, the spec and the exported model, in an MLflow run."""

    tracking_uri: str = ""
    """``http://host:5000``, ``databricks``, ``sqlite:///mlflow.db``, a folder, ... Default:
    ``$MLFLOW_TRACKING_URI`` if set, else a local file store in ``<run dir>/mlruns``. Checked
    once when the run starts: a store that does not answer within seconds disables the
    tracker with one warning (``strict = true``: the run fails before training)."""
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
    register: str = ""
    """Register the model (the best one if the run has one, else the final one) under this
    name at the end of a completed or stopped run, as a new version tagged with the run's
    name, spec hash and monitored metric."""
    alias: str = ""
    """Point this alias of the registered model (``candidate``, ``champion``) at the new version."""
    register_if: Literal["always", "better"] = "always"
    """``better``: register (and move the alias) only when the monitored metric beats the
    version that holds ``alias``, in the checkpoint monitor's direction."""

    def __attrs_post_init__(self) -> None:
        if (self.alias or self.register_if != "always") and not self.register:
            raise ValueError("alias and register_if need register = \"<model name>\"")
        if self.register_if == "better" and not self.alias:
            raise ValueError("register_if = \"better\" compares with the version holding an alias: set alias")
