"""The entry point registers the backend without importing scikit-learn or pandas."""

from __future__ import annotations

import subprocess
import sys


def test_entry_point_does_not_import_sklearn_or_pandas():
    code = ("import sys; from engine._core.plugins import load_plugins; p = load_plugins(); "
            "assert 'sklearn' in p.registry.of_kind('backend'); "
            "print(sorted(m for m in ('sklearn', 'pandas', 'numpy', 'fsspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
