"""TensorBoard ``Event`` protos for what the tracker records, built from TensorBoard's own protos."""

from __future__ import annotations

import json
import time
from typing import Any

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2, summary_v2
from tensorboard.plugins.text.summary_v2 import text_pb

from engine import RunStatus

#: Run status -> what the HParams dashboard shows.
_STATUS: dict[str, Any] = {
    RunStatus.COMPLETED: api_pb2.STATUS_SUCCESS,
    RunStatus.STOPPED: api_pb2.STATUS_SUCCESS,
    RunStatus.FAILED: api_pb2.STATUS_FAILURE,
    RunStatus.INTERRUPTED: api_pb2.STATUS_UNKNOWN,  # resumable; the resumed process records its own end
}


def scalars(step: int, wall_time: float, metrics: dict[str, float]) -> Event:
    values = [Summary.Value(tag=tag, simple_value=value) for tag, value in metrics.items()]
    return Event(step=step, wall_time=wall_time, summary=Summary(value=values))


def text(tag: str, content: str, step: int = 0) -> Event:
    return Event(step=step, wall_time=time.time(), summary=text_pb(tag, content))


def hparams_start(values: dict[str, Any], group: str) -> Event:
    """The session-start record of the HParams dashboard, in the run's own event file."""
    return Event(step=0, wall_time=time.time(), summary=summary_v2.hparams_pb(values, trial_id=group))


def hparams_end(status: str) -> Event:
    info = plugin_data_pb2.SessionEndInfo(status=_STATUS.get(status, api_pb2.STATUS_UNKNOWN),
                                          end_time_secs=time.time())
    content = plugin_data_pb2.HParamsPluginData(session_end_info=info)
    value = Summary.Value(tag=metadata.SESSION_END_INFO_TAG, tensor=metadata.NULL_TENSOR,
                          metadata=metadata.create_summary_metadata(content))
    return Event(step=0, wall_time=time.time(), summary=Summary(value=[value]))


def restart(step: int) -> Event:
    """``SessionLog.START`` at ``step``: readers drop what earlier files hold from ``step`` on."""
    return Event(step=step, wall_time=time.time(), session_log=SessionLog(status=SessionLog.START))


def histogram(tag: str, step: int, proto: HistogramProto) -> Event:
    return Event(step=step, wall_time=time.time(), summary=Summary(value=[Summary.Value(tag=tag, histo=proto)]))


def flat_hparams(data: dict[str, Any], prefix: str = "") -> dict[str, bool | float | str]:
    """A spec as ``{"backend.lr": 0.1, ...}``: numbers, booleans and strings; other values as JSON."""
    out: dict[str, bool | float | str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, bool | str):
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = float(value)
        else:
            out[name] = json.dumps(value, default=str, sort_keys=True)
    return out
