"""Reading TensorBoard event files back the way TensorBoard does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.plugins.hparams import metadata

#: Keep every value, not TensorBoard's default sample of 1000 scalars / 500 histograms.
SIZE_GUIDANCE = {"scalars": 0, "tensors": 0, "histograms": 0}


def accumulate(log_dir: Path | str) -> EventAccumulator:
    reader = EventAccumulator(str(log_dir), size_guidance=SIZE_GUIDANCE)
    reader.Reload()
    return reader


def scalars(reader: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(event.step, event.value) for event in reader.Scalars(tag)]


def hparams(reader: EventAccumulator) -> dict[str, Any]:
    content = reader.SummaryMetadata(metadata.SESSION_START_INFO_TAG).plugin_data.content
    info = metadata.parse_session_start_info_plugin_data(content)
    return {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
            for name, value in info.hparams.items()}


def session_end_status(reader: EventAccumulator) -> int:
    content = reader.SummaryMetadata(metadata.SESSION_END_INFO_TAG).plugin_data.content
    return metadata.parse_session_end_info_plugin_data(content).status


def steps_in_file(path: Path) -> list[int]:
    """Steps of the scalar events in one event file, as written (no purging)."""
    return [event.step for event in LegacyEventFileLoader(str(path)).Load() if event.summary.value
            and event.summary.value[0].HasField("simple_value")]


def logged(run_dir: Path, name: str) -> list[tuple[int, float]]:
    """``(step, value)`` of ``name`` in the run's metrics.jsonl."""
    out = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if name in record:
            out.append((record["step"], record[name]))
    return out
