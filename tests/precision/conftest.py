"""engine-precision's tests reuse the torch backend's test models (tests/torch)."""

from __future__ import annotations

import sys
from pathlib import Path

TORCH_TESTS = Path(__file__).resolve().parent.parent / "torch"
if str(TORCH_TESTS) not in sys.path:
    sys.path.insert(0, str(TORCH_TESTS))
