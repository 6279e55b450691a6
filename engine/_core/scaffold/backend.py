"""Templates of ``engine new-plugin NAME --kind backend``: a working backend to replace piece by piece.

It fits one number to the mean of a data set by SGD, in pure Python: small enough to read at a
glance, complete enough that its generated tests (train, export, kill and resume exactly, a
user's mistake in one line) pass, and keep passing while its author swaps in a real model.
"""

PLUGIN = '''\
"""Entry point of the ${dist} plugin: keep it light, it is imported at every `engine` start.

It only declares the `${name}` backend: a run whose spec does not select it is unchanged.
"""

from __future__ import annotations

import engine

from ${package}.options import ${klass}Options


@engine.hookimpl
def engine_register_components(registry: engine.ComponentRegistry) -> None:
    """Declare the `${name}` backend; its module (and whatever heavy library it needs) is
    imported only when a spec selects it."""
    registry.add("backend", "${name}", "${package}.backend:${klass}Backend", options=${klass}Options,
                 description="fits one number to the mean of a data set (edit me)")
'''

OPTIONS = '''\
"""Options of the `${name}` backend: the keys of a spec's `[backend]` section besides `use`."""

from __future__ import annotations

import attrs
from engine import PositiveFloat


@attrs.define
class ${klass}Options:
    """Fit one number to the mean of a data set by SGD (a working skeleton to replace)."""

    data: str = ""
    """A text file of numbers separated by white space; empty: 64 numbers drawn from the run's seed."""
    lr: PositiveFloat = 0.1
    """Learning rate."""
'''

IMPLEMENTATION = {"backend.py": '''\
"""The `${name}` backend. Replace its data and its one-number model with yours, one method at a
time, keeping the generated tests passing: they train, export, kill and resume it.

The loop owns cadence, stopping, checkpoints and events; a backend owns the work of a step.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import engine

from ${package}.options import ${klass}Options


class ${klass}Backend:
    def __init__(self, options: ${klass}Options):
        self.options = options
        self.train: list[float] = []
        self.valid: list[float] = []
        self.estimate = 0.0
        self.loss_sum = 0.0
        self.loss_count = 0

    def setup(self, run: engine.Run) -> None:
        """Load the data and build the model. It runs before anything is written: a user's
        mistake raised here as `engine.EngineError` is one line on stderr, exit status 2, and
        leaves no run directory behind."""
        numbers = _read(self.options.data) if self.options.data else _drawn(run.seed)
        cut = max(1, len(numbers) // 4)
        self.valid, self.train = numbers[:cut], numbers[cut:]
        self.estimate = 0.0

    @property
    def steps_per_epoch(self) -> int:
        return len(self.train)

    def train_step(self, run: engine.Run) -> None:
        """Step `run.step + 1`: one SGD update on example `run.step_in_epoch` (after a resume
        this position may be in the middle of an epoch)."""
        error = self.estimate - self.train[run.step_in_epoch]
        self.estimate -= self.options.lr * 2 * error
        self.loss_sum += error * error
        self.loss_count += 1

    def train_metrics(self) -> dict[str, float]:
        """What was accumulated since the last call, then reset (called at the log cadence)."""
        if not self.loss_count:
            return {}
        metrics = {"train/loss": self.loss_sum / self.loss_count}
        self.loss_sum, self.loss_count = 0.0, 0
        return metrics

    def evaluate(self, run: engine.Run) -> dict[str, float]:
        return {"val/loss": sum((self.estimate - x) ** 2 for x in self.valid) / len(self.valid)}

    def metric_names(self, run: engine.Run) -> list[str]:
        """What `evaluate` reports, so a spec monitoring another name is refused before training."""
        return ["val/loss"]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to go on bit-identically (JSON values and bytes only)."""
        return {"estimate": self.estimate, "loss_sum": self.loss_sum, "loss_count": self.loss_count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.estimate = float(state["estimate"])
        self.loss_sum = float(state["loss_sum"])
        self.loss_count = int(state["loss_count"])

    def export(self, directory: Path, tag: str) -> Path:
        """The model as `<directory>/<tag>.json` (`final`, `best`), written whole or not at all."""
        return engine.write_atomic(directory / f"{tag}.json", json.dumps({"estimate": self.estimate}))


def _drawn(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(3.0, 1.0) for _ in range(64)]


def _read(path: str) -> list[float]:
    fix = "give a text file of at least two numbers separated by white space"
    try:
        words = Path(path).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise engine.EngineError(f"cannot read {path!r}: {reason}", where="backend.data", fix=fix) from None
    try:
        numbers = [float(word) for word in words]
    except ValueError as exc:
        raise engine.EngineError(f"{path!r} holds something else than numbers ({exc})",
                                 where="backend.data", fix=fix) from None
    if len(numbers) < 2:
        raise engine.EngineError(f"{path!r} holds {len(numbers)} number(s)", where="backend.data", fix=fix)
    return numbers
'''}

TEST = '''\
"""Tests of the ${dist} backend with engine's testing kit (engine.testing)."""

import json

from engine.testing import cli, kill_and_resume, run_spec

SPEC = {"backend": {"use": "${name}"},
        "loop": {"max_steps": 96, "eval_every": "24 steps", "checkpoint_every": "16 steps"}}


def test_it_trains_and_exports_its_model(tmp_path):
    result = run_spec(SPEC, tmp_path / "run")
    assert result.status == "completed", result.error
    assert result.summary["metrics"]["val/loss"] < 2.0
    assert json.loads((result.dir / "model" / "final.json").read_text())["estimate"] > 2.0


def test_killed_and_resumed_it_ends_as_a_run_that_never_stopped(tmp_path):
    runs = kill_and_resume(SPEC, tmp_path, kill_at=40)
    assert runs.killed.code == -9 and runs.resumed.resumed_from == 32
    assert runs.resumed.summary["metrics"] == runs.uninterrupted.summary["metrics"]
    final = (runs.resumed.dir / "model" / "final.json").read_text()
    assert final == (runs.uninterrupted.dir / "model" / "final.json").read_text()


def test_a_missing_data_file_is_one_line_and_leaves_nothing_behind(tmp_path):
    (tmp_path / "spec.toml").write_text('[loop]\\nmax_steps = 4\\n'
                                        '[backend]\\nuse = "${name}"\\ndata = "missing.txt"\\n')
    result = cli("run", "spec.toml", "--run-dir", "run", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err, result
    assert len(result.error_lines) == 1 and "backend.data: cannot read 'missing.txt'" in result.error_lines[0]
    assert not (tmp_path / "run").exists()
'''

USAGE = '''\
    [backend]
    use = "${name}"
    data = "numbers.txt"
'''
