"""Which runs a folder holds: a run directory, a cross-validation's folder (``fold-<k>/``) or a
study's (``trials/<n>/``, each a run or a cross-validation)."""

from __future__ import annotations

from pathlib import Path

from engine._core.rundir import RunFiles


def run_directories(directory: Path) -> list[Path]:
    """``directory`` itself when it is a run (it has spec.toml or metrics.jsonl), else every run
    in its ``fold-<k>/`` and ``trials/<n>/`` folders, in numeric order, depth first; empty
    when it holds none."""
    if (directory / RunFiles.SPEC).is_file() or (directory / RunFiles.METRICS).is_file():
        return [directory]
    found: list[Path] = []
    for pattern in ("fold-*", "trials/*"):
        numbered = [p for p in directory.glob(pattern) if p.is_dir() and p.name.rpartition("-")[2].isdigit()]
        for child in sorted(numbered, key=lambda p: int(p.name.rpartition("-")[2])):
            found += run_directories(child)
    return found
