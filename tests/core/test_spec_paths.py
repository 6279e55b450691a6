"""engine.session.path_problem and value_problem: may a tool set this key path, to this value?"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import Spec, session

SPEC = """
[run]
name = "r"

[loop]
max_steps = 10

[backend]
use = "testing"
lr = 0.1
"""


@pytest.fixture(scope="module")
def spec() -> Spec:
    return session.structure(session.read(text=SPEC))


@pytest.mark.parametrize("path", [
    "backend.lr", "backend.use", "loop.max_steps", "loop.eval_every",
    "early_stop.patience",                       # a section the spec leaves at its defaults
    "checkpoint.storage_options.endpoint_url",   # a free-form table takes new keys
])
def test_a_path_that_names_a_value_has_no_problem(spec: Spec, path: str) -> None:
    assert session.path_problem(spec, path) is None


@pytest.mark.parametrize(("path", "expected"), [
    ("backend.lrr", "backend (testing) has no key 'lrr' — valid keys: batch_size, dim,"),
    ("loop.max_stepz", "loop has no key 'max_stepz' — valid keys:"),
    ("early_stop.patiense", "early_stop has no key 'patiense'"),
    ("optimizer.lr", "the spec has no section [optimizer] — sections: backend, checkpoint,"),
    ("tracker.format", "the spec has no [tracker] section — add it, or choose another path"),
    ("loop.max_steps.x", "loop.max_steps is a value (10), not a table with key 'x'"),
    ("", "not a key path — write it like backend.optimizer.lr"),
])
def test_a_path_that_names_nothing_says_why(spec: Spec, path: str, expected: str) -> None:
    problem = session.path_problem(spec, path)
    assert problem is not None and problem.startswith(expected), problem


@pytest.mark.parametrize(("path", "value"), [
    ("backend.lr", 0.5), ("backend.batch_size", 4), ("loop.max_steps", 1), ("early_stop.patience", 3),
])
def test_a_value_the_section_takes_has_no_problem(spec: Spec, path: str, value: Any) -> None:
    assert session.value_problem(spec, path, value, "here") is None


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("backend.lr", -0.5, "value -0.5 is refused by the spec: backend.lr: expected a number > 0"),
    ("backend.batch_size", 2.5, "value 2.5 is refused by the spec: backend.batch_size: expected an integer"),
    ("loop.max_steps", 0, "value 0 is refused by the spec: loop.max_steps: expected an integer > 0"),
])
def test_a_value_the_section_refuses_is_one_line_that_begins_where_it_came_from(
        spec: Spec, path: str, value: Any, expected: str) -> None:
    raw = copy.deepcopy(spec.raw)
    problem = session.value_problem(spec, path, value, 'tune.space."x"')
    assert problem is not None and problem.startswith(f'tune.space."x": {expected}'), problem
    assert spec.raw == raw  # the spec is not changed
