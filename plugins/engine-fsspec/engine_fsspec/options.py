"""Options of the ``fsspec`` storage (light: imported by the entry point)."""

from __future__ import annotations

from typing import Any

import attrs

from engine import NonNegativeFloat, PositiveFloat, PositiveInt


@attrs.define
class FsspecStorageOptions:
    """Checkpoints at any fsspec URL (s3://, gs://, az://, memory://, local://), committed by a manifest."""

    url: str = ""
    """Where checkpoints go, such as ``s3://bucket/runs/digits`` (set by ``checkpoint.storage``)."""
    filesystem: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments of the fsspec filesystem, e.g. s3fs's ``endpoint_url``, ``client_kwargs``,
    ``config_kwargs``. Prefer credentials from the environment; values written here are redacted
    from the run directory, and a redacted value (``"***"``) counts as unset."""
    attempts: PositiveInt = 5
    """Tries per storage operation; transient errors (timeouts, 5xx, connection resets) are retried."""
    backoff: NonNegativeFloat = 0.5
    """Seconds before the first retry; each further retry waits twice as long (with jitter)."""
    backoff_max: NonNegativeFloat = 10.0
    """Longest wait between two tries, in seconds."""
    lock: bool = True
    """Keep ``<url>/.lock.json`` while a run trains, so a second process on the same run exits 2
    (best effort on object stores: see docs/restarts.md)."""
    lock_heartbeat: PositiveFloat = 20.0
    """Seconds between two refreshes of the lock; a lock not refreshed for three periods is
    taken to be left by a dead process."""
    mirror_run_dir: bool = False
    """Also keep the run directory (spec, environment, metrics log, summary, exported models) at
    ``<url>/run/``: copied in the background after every committed checkpoint and once more when
    the run ends. ``engine run --resume`` on a machine without the run directory restores it
    from there first."""
