"""LightGBM prints ``[LightGBM] [Fatal] ...`` on the process's stderr before raising; the engine
reports the error itself in one line, so that native copy is held back while a booster is built."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Capture file descriptor 2; replay what was written unless the block raised."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if not failed:
                sink.seek(0)
                text = sink.read().decode(errors="replace")
                if text:
                    sys.stderr.write(text)
                    sys.stderr.flush()
