"""Options of the ``wandb`` tracker (``[[tracker]] use = "wandb"``)."""

from __future__ import annotations

from typing import Literal

import attrs

from engine import TrackerOptions


@attrs.define(kw_only=True)
class WandbOptions(TrackerOptions):
    """The spec as config, every metric at its step, the summary and the model, in a W&B run."""

    project: str = ""
    """W&B project. Default: ``$WANDB_PROJECT``, else the run's name."""
    entity: str = ""
    """User or team that owns the project. Default: ``$WANDB_ENTITY``, else your default entity."""
    name: str = ""
    """Display name of the W&B run. Default: the run's name (``-fold<k>`` added under ``[cv]``)."""
    group: str = ""
    """W&B group. Default: none, or the run's name for the folds of a ``[cv]``."""
    tags: list[str] = attrs.field(factory=list)
    """Tags of the W&B run."""
    notes: str = ""
    """Notes of the W&B run. Default: the run's ``description``."""
    mode: Literal["auto", "online", "offline", "disabled"] = "auto"
    """``online`` streams to the W&B server, ``offline`` writes only to ``dir`` (upload later with
    ``wandb sync``), ``disabled`` records nothing. ``auto``: ``$WANDB_MODE`` if set, else ``online``
    when W&B has credentials (``WANDB_API_KEY`` or ``wandb login``), else ``offline``."""
    dir: str = ""
    """Folder W&B writes its files in (``<dir>/wandb/<mode>-run-<time>-<id>``). Default: the run directory."""
    log_model: bool = True
    """Log the exported models (``model/``) as versions of the artifact ``model-<run id>``, aliased by tag."""
