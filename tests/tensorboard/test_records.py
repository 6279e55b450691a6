"""The batched event writer frames records exactly as TensorBoard's own writer does."""

from __future__ import annotations

import os

from engine_tensorboard import records
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tensorboard_masked_crc32c
from tensorboard.summary.writer.record_writer import RecordWriter


class _Bytes:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


def test_checksums_and_framing_match_tensorboard():
    for size in (0, 1, 7, 68, 1000):
        data = os.urandom(size)
        assert records.masked_crc32c(data) == tensorboard_masked_crc32c(data)
        x = records._crc32c_python(data)
        assert (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF == tensorboard_masked_crc32c(data)
        sink = _Bytes()
        RecordWriter(sink).write(data)
        assert records.frame(data) == sink.data
