"""Options of the ``tensorboard`` tracker (``[[tracker]] use = "tensorboard"``)."""

from __future__ import annotations

import attrs

from engine import PositiveFloat, PositiveInt, TrackerOptions


@attrs.define(kw_only=True)
class TensorBoardOptions(TrackerOptions):
    """Scalars, the spec, hparams and optional histograms, in TensorBoard event files."""

    log_dir: str = ""
    """Folder or fsspec URL (``s3://...`` needs fsspec and its filesystem); events go to
    ``<log_dir>/<run name>``. Default: ``<run dir>/tensorboard``."""
    flush_secs: PositiveFloat = 30.0
    """Write buffered events at least this often; they are also written at every checkpoint and at the end."""
    histogram_every: PositiveInt | None = None
    """Write weight and gradient histograms every N steps (torch backends exposing ``backend.model``;
    gradients where the backend fires ``on_before_optimizer_step``, as the torch backend does)."""
    histogram_bins: PositiveInt = 30
    hparams: bool = True
    """Record the spec's values as hparams, for the HParams dashboard."""
