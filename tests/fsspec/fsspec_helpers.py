"""Specs and readers shared by the fsspec tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPEC = """
[run]
name = "r"
seed = 3

[loop]
max_steps = {max_steps}
eval_every = "5 steps"
checkpoint_every = "{every} steps"
log_every = "2 steps"

[backend]
use = "testing"
train_size = 64
batch_size = 8
noise = 0.3
step_seconds = {sleep}

[checkpoint]
storage = "{url}"
keep_last = {keep_last}
{extra}
[checkpoint.storage_options]
attempts = 3
backoff = 0.1

[checkpoint.storage_options.filesystem]
{filesystem}
"""


def spec_text(url: str, *, endpoint: str = "", max_steps: int = 21, every: int = 7, sleep: float = 0.0,
              keep_last: int = 50, extra: str = "", filesystem: str = "") -> str:
    lines = [f'endpoint_url = "{endpoint}"'] if endpoint else []
    if filesystem:
        lines.append(filesystem)
    text = SPEC.format(url=url, max_steps=max_steps, every=every, sleep=sleep, keep_last=keep_last,
                       extra=extra, filesystem="\n".join(lines))
    if "://" not in url:  # the core's local storage has options of its own
        text = text.split("[checkpoint.storage_options]")[0]
    return text


def final_weights(run_dir: Path) -> Any:
    return json.loads((run_dir / "model/final.json").read_text())


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def checkpoint_names(objects: dict[str, bytes], prefix: str) -> list[str]:
    """Committed checkpoint names among S3 object keys under ``prefix``."""
    return sorted({key[len(prefix):].split("/")[0] for key in objects if key.endswith("/MANIFEST.json")})
