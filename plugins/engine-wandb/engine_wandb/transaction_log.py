"""Reading W&B's transaction logs (``run-<id>.wandb``), to find the last step a run holds.

W&B writes every record of a run to ``<dir>/wandb/<mode>-run-<time>-<id>/run-<id>.wandb``, online
or offline; ``wandb sync`` uploads the files of one id in the order they started, as one
resumed run. The format is a LevelDB-style log of ``wandb_internal_pb2.Record`` messages: a
7-byte header (``:W&B``, magic 0xBEE1, version 0), then 32 KiB blocks of chunks, each
``crc32c (4) | length (2, little-endian) | type (1) | data``; type 1 is a whole record, 2, 3
and 4 its first, middle and last pieces. A process killed while writing leaves a torn last
record, which is dropped here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
_BLOCK = 32768
_CHUNK_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def records(path: Path) -> Iterator[Any]:
    """Every whole record (``wandb_internal_pb2.Record``) in the transaction log at ``path``."""
    from google.protobuf.message import DecodeError
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    if not data.startswith(HEADER):
        return
    offset, pieces = len(HEADER), b""
    while offset + _CHUNK_HEADER <= len(data):
        left_in_block = _BLOCK - offset % _BLOCK
        if left_in_block < _CHUNK_HEADER:  # the writer pads a block's tail with zeros
            offset += left_in_block
            continue
        length, kind = struct.unpack_from("<HB", data, offset + 4)
        end = offset + _CHUNK_HEADER + length
        if kind not in (_FULL, _FIRST, _MIDDLE, _LAST) or end > len(data):
            return  # zero padding or a torn tail: the file ends here
        chunk = data[offset + _CHUNK_HEADER:end]
        offset = end
        pieces = chunk if kind in (_FULL, _FIRST) else pieces + chunk
        if kind in (_FIRST, _MIDDLE):
            continue
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
        try:
            record.ParseFromString(pieces)
        except DecodeError:
            return
        yield record


def logs_of(wandb_dir: Path, run_id: str) -> list[Path]:
    """The transaction logs of run ``run_id`` under ``wandb_dir`` (``<dir>/wandb``), oldest first."""
    return sorted(wandb_dir.glob(f"*run-*-{run_id}*/run-{run_id}.wandb"), key=lambda p: p.parent.name)


def last_step(wandb_dir: Path, run_id: str) -> int:
    """The highest history step that the logs of ``run_id`` hold; -1 when they hold none."""
    last = -1
    for path in logs_of(wandb_dir, run_id):
        for record in records(path):
            if record.WhichOneof("record_type") == "history":
                last = max(last, int(record.history.step.num))
    return last
