"""Weight and gradient histograms for a backend exposing a torch model; skipped cleanly otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from tbtools import accumulate

from engine import hookimpl
from engine.testing import backend as testing
from engine.testing import run_spec

SPEC = {
    "loop": {"max_steps": 20, "log_every": 5},
    "tracker": [{"use": "tensorboard", "histogram_every": 5, "histogram_bins": 8}],
}


class TorchModelBackend(testing.TestingBackend):
    """The testing backend, plus a small torch model that takes one SGD step per step."""

    def setup(self, run: Any) -> None:
        import torch

        super().setup(run)
        torch.manual_seed(0)
        self.model = torch.nn.Linear(4, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def train_step(self, run: Any) -> None:
        import torch

        super().train_step(run)
        self.optimizer.zero_grad()
        self.model(torch.randn(8, 4)).square().mean().backward()
        self.optimizer.step()


class TorchModelPlugin:
    @hookimpl
    def engine_register_components(self, registry: Any) -> None:
        registry.add("backend", "testing-torch-model", TorchModelBackend, options=testing.TestingBackendOptions)


def test_weight_and_gradient_histograms_every_n_steps(tmp_path):
    pytest.importorskip("torch")
    spec = {**SPEC, "backend": {"use": "testing-torch-model"}}
    result = run_spec(spec, tmp_path / "run", plugins=[TorchModelPlugin()])
    assert result.status == "completed"
    reader = accumulate(result.dir / "tensorboard")
    tags = set(reader.Tags()["histograms"])
    assert tags == {"weights/weight", "weights/bias", "grads/weight", "grads/bias"}
    weights = reader.Histograms("weights/weight")
    assert [h.step for h in weights] == [5, 10, 15, 20]
    last = weights[-1].histogram_value
    assert last.num == 8 and sum(last.bucket) == 8 and len(last.bucket) == 8
    assert last.min <= last.max == pytest.approx(last.bucket_limit[-1])


def test_backend_without_torch_model_writes_no_histograms(tmp_path, capfd):
    result = run_spec({**SPEC, "backend": {"use": "testing"}}, tmp_path / "run")
    assert result.status == "completed"
    assert "warning" not in capfd.readouterr().err
    reader = accumulate(result.dir / "tensorboard")
    assert reader.Tags()["histograms"] == []
    assert [e.step for e in reader.Scalars("train/loss")] == [5, 10, 15, 20]
