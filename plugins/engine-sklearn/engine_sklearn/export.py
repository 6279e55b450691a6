"""Writing the fitted estimator: skops where it is installed (reviewable, no arbitrary code on
load), joblib otherwise (pickle: load only files you made yourself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from engine import EngineError, write_atomic


def format_for(choice: str) -> str:
    if choice == "auto":
        return "skops" if importlib.util.find_spec("skops") else "joblib"
    if choice == "skops" and not importlib.util.find_spec("skops"):
        raise EngineError("backend.export = \"skops\" needs skops", where="backend.export",
                          fix="pip install 'engine-sklearn[skops]', or use \"joblib\"")
    return choice


def write(estimator: Any, directory: Path, tag: str, fmt: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{tag}.{fmt}"
    if fmt == "skops":
        import skops.io as sio

        return write_atomic(path, sio.dumps(estimator))
    import joblib

    partial = directory / f".{tag}.{fmt}.partial"
    try:
        joblib.dump(estimator, partial)
        partial.replace(path)
    except BaseException:  # a full disk: leave no partial file behind
        partial.unlink(missing_ok=True)
        raise
    return path
