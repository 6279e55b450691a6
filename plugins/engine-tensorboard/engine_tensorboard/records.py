"""An event file written in batches: TensorBoard's file layout, one write per flush.

TensorBoard's ``EventFileWriter`` costs about 190 µs per event on our CI machine: its
TensorFlow-free fallback computes CRC-32C byte by byte in slow Python and its ``gfile`` stub
opens the file again for every record. This writer keeps the exact format (the same file
name pattern, the ``brain.Event:2`` version record, TFRecord framing with masked CRC-32C),
writes through the same ``gfile`` (local paths, ``s3://``, and fsspec URLs when fsspec is
installed), but frames a whole batch in memory and writes it at once, with a C CRC-32C
(``google-crc32c`` or ``crc32c``) when one is installed and a tight table loop otherwise.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable, Iterable

from tensorboard.compat import tf
from tensorboard.compat.proto.event_pb2 import Event, SourceMetadata

_TABLE: list[int] = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0x82F63B78 if _crc & 1 else _crc >> 1
    _TABLE.append(_crc)


def _crc32c_python(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast_crc32c() -> Callable[[bytes], int]:
    try:
        import google_crc32c  # type: ignore[import-not-found]

        return lambda data: int(google_crc32c.value(data))
    except ImportError:
        pass
    try:
        import crc32c  # type: ignore[import-not-found]

        return lambda data: int(crc32c.crc32c(data))
    except ImportError:
        return _crc32c_python


crc32c = _fast_crc32c()


def masked_crc32c(data: bytes) -> int:
    """The TFRecord checksum: CRC-32C, rotated and offset."""
    x = crc32c(data)
    return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord: length, its checksum, the data, its checksum."""
    header = struct.pack("<Q", len(data))
    return b"".join((header, struct.pack("<I", masked_crc32c(header)), data,
                     struct.pack("<I", masked_crc32c(data))))


class EventFile:
    """One new event file in ``log_dir``, named as TensorBoard names them."""

    def __init__(self, log_dir: str):
        tf.io.gfile.makedirs(log_dir)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{id(self)}"
        self.path = f"{log_dir.rstrip('/')}/{name}" if "://" in log_dir else os.path.join(log_dir, name)
        self._file = tf.io.gfile.GFile(self.path, "wb")
        version = Event(wall_time=time.time(), file_version="brain.Event:2",
                        source_metadata=SourceMetadata(writer="engine-tensorboard"))
        self.write([version])

    def write(self, events: Iterable[Event]) -> None:
        """Append ``events`` in one write and flush them."""
        blob = b"".join(frame(event.SerializeToString()) for event in events)
        if blob:
            self._file.write(blob)
            self._file.flush()

    def close(self) -> None:
        self._file.close()
