"""Assemble docs/benchmarks.md from the latest results each benchmark wrote to benchmarks/results/.

    python benchmarks/collect.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["core", "torch", "memory", "transformers", "boosting", "tracking", "checkpointing", "tuning", "distributed"]

HEADER = """# Benchmarks

Measured side by side in one run per benchmark, reported as ratios to the hand-written
baseline or floor — never as timed tests. Each section names the machine it ran on and the
command that reproduces it (`python benchmarks/<name>.py`). Regenerate this page with
`python benchmarks/collect.py` after re-running a benchmark.
"""


def main() -> None:
    results = ROOT / "benchmarks/results"
    files = sorted(results.glob("*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    parts = [HEADER]
    for file in files:
        text = file.read_text().strip()
        parts.append(text if text.startswith("## ") else f"## {file.stem}\n\n{text}")
    (ROOT / "docs/benchmarks.md").write_text("\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
