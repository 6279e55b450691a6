"""Templates of ``engine new-plugin NAME --kind tracker``: a ``[[tracker]]`` writing a CSV file."""

PLUGIN = '''\
"""Entry point of the ${dist} plugin: keep it light, it is imported at every `engine` start.

It only declares the `${name}` tracker: a run whose spec does not list it is unchanged.
"""

from __future__ import annotations

import engine

from ${package}.options import ${klass}Options


@engine.hookimpl
def engine_register_components(registry: engine.ComponentRegistry) -> None:
    """Declare the `${name}` tracker; its module is imported only when a spec selects it."""
    registry.add("tracker", "${name}", "${package}.tracker:${klass}Tracker", options=${klass}Options,
                 description="every logged metric as a CSV line step,name,value")
'''

OPTIONS = '''\
"""Options of the `${name}` tracker: the keys of its `[[tracker]]` section besides `use`."""

from __future__ import annotations

import attrs
from engine import TrackerOptions


@attrs.define
class ${klass}Options(TrackerOptions):
    """Write every logged metric as a CSV line `step,name,value`."""

    file: str = "${name}.csv"
    """File name inside the run directory."""
'''

IMPLEMENTATION = {"tracker.py": '''\
"""The `${name}` tracker: receives `on_log` and `on_run_end` for the run it is selected in."""

from __future__ import annotations

from typing import IO

import engine

from ${package}.options import ${klass}Options


class ${klass}Tracker:
    def __init__(self, options: ${klass}Options):
        self.options = options
        self.handle: IO[str] | None = None

    def on_log(self, run: engine.Run, metrics: dict[str, float], step: int) -> None:
        if self.handle is None:
            self.handle = open(run.dir / self.options.file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        for metric, value in sorted(metrics.items()):
            self.handle.write(f"{step},{metric},{value!r}\\n")

    def on_run_end(self, run: engine.Run, status: str) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
'''}

TEST = '''\
"""Tests of the ${dist} plugin with engine's testing kit (engine.testing: no numpy or torch needed)."""

from engine.testing import run_spec

BASE = {"backend": {"use": "testing"}, "loop": {"max_steps": 20, "log_every": 5}}


def test_the_tracker_writes_every_logged_metric(tmp_path):
    result = run_spec({**BASE, "tracker": [{"use": "${name}"}]}, tmp_path / "run")
    assert result.status == "completed", result.error
    lines = (tmp_path / "run" / "${name}.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines if ",train/loss," in line] == ["5", "10", "15", "20"]


def test_a_run_that_does_not_select_it_is_unchanged(engine_run, hook_recorder):
    result = engine_run(BASE, plugins=[hook_recorder])
    assert result.status == "completed" and hook_recorder.count("on_step") == 20
    assert not (result.dir / "${name}.csv").exists()
'''

USAGE = '''\
    [[tracker]]
    use = "${name}"
    file = "${name}.csv"
'''
