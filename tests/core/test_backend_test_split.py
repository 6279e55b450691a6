"""A backend's optional ``test(run)``: called once after a successful run, its metrics logged."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from engine import hookimpl
from engine.testing import HookRecorder, run_spec
from engine.testing import backend as testing


class TestedBackend(testing.TestingBackend):
    """The testing backend with a held-out test split that reports the model's first weight."""

    calls: ClassVar[list[int]] = []

    def test(self, run: Any) -> dict[str, float]:
        TestedBackend.calls.append(run.step)
        return {"test/loss": 0.25, "test/weight": self.weights[0]}


class Plugin:
    @hookimpl
    def engine_register_components(self, registry: Any) -> None:
        registry.add("backend", "testing-tested", TestedBackend, options=testing.TestingBackendOptions)


def run(tmp_path: Any, **backend: Any) -> tuple[Any, HookRecorder]:
    TestedBackend.calls = []
    recorder = HookRecorder()
    spec = {"backend": {"use": "testing-tested", **backend}, "loop": {"max_steps": 10, "log_every": 5}}
    return run_spec(spec, tmp_path / "run", plugins=[Plugin(), recorder]), recorder


def test_test_metrics_are_logged_once_at_the_end(tmp_path):
    result, recorder = run(tmp_path)
    assert result.status == "completed" and TestedBackend.calls == [10]
    tested = [call for call in recorder.of("on_log") if "test/loss" in call.kwargs["metrics"]]
    assert [(c.kwargs["step"], c.kwargs["metrics"]["test/loss"]) for c in tested] == [(10, 0.25)]
    summary = json.loads((result.dir / "summary.json").read_text())
    assert summary["metrics"]["test/loss"] == 0.25 and summary["metrics"]["test/weight"] != 0
    records = [json.loads(line) for line in (result.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "test/loss" in r] == [10]


def test_a_failed_run_is_not_tested(tmp_path):
    result, _ = run(tmp_path, fail_at_step=4)
    assert result.status == "failed" and TestedBackend.calls == []
    assert not any(name.startswith("test/") for name in result.summary["metrics"])
