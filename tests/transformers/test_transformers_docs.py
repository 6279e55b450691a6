"""docs/transformers.md shows the example's spec as it is in examples/."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_guide_shows_the_example_spec() -> None:
    spec = (REPO / "examples" / "text_classification_transformers.toml").read_text().rstrip()
    assert f"```toml\n{spec}\n```" in (REPO / "docs" / "transformers.md").read_text()
