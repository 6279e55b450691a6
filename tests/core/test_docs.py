"""The hook and spec references are generated from the code and must stay in step with it."""

from __future__ import annotations

import inspect
from pathlib import Path

from engine._core import hookspecs
from engine._core.reference import api_markdown, hook_signature, hooks_markdown, spec_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_hook_is_documented_with_its_current_signature():
    text = (DOCS / "reference/hooks.md").read_text()
    for name, function in hookspecs._all_specs().items():
        doc = inspect.cleandoc(function.__doc__ or "")
        assert len(doc) > 40, f"hook {name} needs a real docstring"
        assert f"### `{name}`" in text, f"{name} is missing from docs/reference/hooks.md"
        assert hook_signature(name) in text, f"the documented signature of {name} is out of date"
    assert text == hooks_markdown(), "regenerate: python -m engine._core.reference docs/reference"


def test_every_event_appears_in_the_loop_pseudocode():
    pseudocode = hookspecs.__doc__ or ""
    for name in hookspecs.event_names():
        assert f"{name}(" in pseudocode, f"{name} is not placed in the loop pseudocode"


def test_the_spec_reference_covers_the_core_sections():
    text = (DOCS / "reference/spec.md").read_text()
    assert text.startswith(spec_markdown(None).rstrip()), "regenerate: python -m engine._core.reference docs/reference"


def test_the_api_reference_is_current():
    text = (DOCS / "reference/api.md").read_text()
    assert text == api_markdown(), "regenerate: python -m engine._core.reference docs/reference"
