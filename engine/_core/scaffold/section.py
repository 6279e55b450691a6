"""Templates of ``engine new-plugin NAME --kind section``: a ``[NAME]`` spec section whose per-run
plugin receives the events of the runs that have it, with state that checkpoints keep."""

PLUGIN = '''\
"""Entry point of the ${dist} plugin: keep it light, it is imported at every `engine` start.

It declares the `[${name}]` spec section; a run whose spec has no such section is unchanged.
"""

from __future__ import annotations

import engine

from ${package}.options import ${klass}Options


@engine.hookimpl
def engine_register_components(registry: engine.ComponentRegistry) -> None:
    registry.add_section("${name}", ${klass}Options, description="counts the steps of a run (edit me)")


@engine.hookimpl
def engine_run_plugins(run: engine.Run) -> list[tuple[str, object]]:
    """A monitor for the runs whose spec has `[${name}]`; its name is stable, as checkpoints need."""
    options = run.spec.sections.get("${name}")
    if options is None:
        return []
    from ${package}.monitor import ${klass}Monitor

    return [("${name}:monitor", ${klass}Monitor(options))]
'''

OPTIONS = '''\
"""Options of the `[${name}]` section."""

from __future__ import annotations

import attrs
from engine import PositiveInt


@attrs.define
class ${klass}Options:
    """[${name}]: log the steps this run has taken (a working example to replace)."""

    every: PositiveInt = 10
    """Log `${name}/steps` every this many steps."""
'''

IMPLEMENTATION = {"monitor.py": '''\
"""The per-run monitor: receives every event of a run whose spec has `[${name}]`.

Its `state_dict` goes into every checkpoint and `load_state_dict` restores it on `--resume`,
so a run killed and resumed logs what a run that never stopped logs.
"""

from __future__ import annotations

from typing import Any

import engine

from ${package}.options import ${klass}Options


class ${klass}Monitor:
    def __init__(self, options: ${klass}Options):
        self.every = options.every
        self.steps = 0

    @engine.hookimpl
    def on_step(self, run: engine.Run) -> None:
        self.steps += 1
        if run.step % self.every == 0:
            run.log({"${name}/steps": float(self.steps)})

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state["steps"])
'''}

TEST = '''\
"""Tests of the ${dist} plugin with engine's testing kit (engine.testing: no numpy or torch needed)."""

import json

from engine.testing import cli, kill_and_resume, run_spec

BASE = {"backend": {"use": "testing"}, "loop": {"max_steps": 12, "checkpoint_every": "4 steps"}}
WITH_SECTION = {**BASE, "${name}": {"every": 4}}


def logged(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_a_run_with_the_section_logs_its_metric(tmp_path):
    result = run_spec(WITH_SECTION, tmp_path / "run")
    assert result.status == "completed", result.error
    assert [r["step"] for r in logged(result.dir) if "${name}/steps" in r] == [4, 8, 12]


def test_a_run_without_the_section_is_unchanged(tmp_path):
    result = run_spec(BASE, tmp_path / "run")
    assert not [r for r in logged(result.dir) if "${name}/steps" in r]
    assert "${name}/steps" not in result.summary["metrics"]


def test_its_state_survives_a_kill_and_a_resume(tmp_path):
    runs = kill_and_resume(WITH_SECTION, tmp_path, kill_at=6)
    assert runs.resumed.resumed_from == 4
    assert runs.resumed.summary["metrics"]["${name}/steps"] == 12.0
    assert runs.resumed.summary["metrics"] == runs.uninterrupted.summary["metrics"]


def test_a_bad_option_is_one_line(tmp_path):
    (tmp_path / "spec.toml").write_text('[loop]\\nmax_steps = 4\\n[backend]\\nuse = "testing"\\n'
                                        '[${name}]\\nevery = 0\\n')
    result = cli("check", "spec.toml", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err, result
    assert len(result.error_lines) == 1 and "${name}.every" in result.error_lines[0]
'''

USAGE = '''\
    [${name}]
    every = 10
'''
