"""Weight and gradient histograms for a backend exposing a torch model; skipped cleanly otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
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
    """The testing backend, plus a small torch model that takes one SGD step per step and
    fires ``on_before_optimizer_step`` as a backend with an optimizer does."""

    def setup(self, run: Any) -> None:
        import torch

        super().setup(run)
        torch.manual_seed(0)
        self.model = torch.nn.Linear(4, 2)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def train_step(self, run: Any) -> None:
        import torch

        super().train_step(run)
        self.model(torch.randn(8, 4)).square().mean().backward()
        run.hook.on_before_optimizer_step(run=run, optimizer=self.optimizer)
        self.optimizer.step()
        self.optimizer.zero_grad()


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
    assert [h.step for h in reader.Histograms("grads/weight")] == [5, 10, 15, 20]
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


#: A linear classifier on 48 generated rows: 6 batches of 8 an epoch.
TOY = '''
import torch
from torch.utils.data import TensorDataset


def datasets():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = (x[:, 0] > 0).long()
    return {"train": TensorDataset(x[:48], y[:48]), "val": TensorDataset(x[48:], y[48:])}
'''

TORCH_SPEC = """
[run]
name = "tb-grads"
[loop]
max_steps = 6
log_every = 3
[backend]
use = "torch"
model = "torch.nn:Linear"
model_args = {in_features = 4, out_features = 2}
data = "tbtoy:datasets"
batch_size = 8
device = "cpu"
threads = 1
%s
[[tracker]]
use = "tensorboard"
histogram_every = 3
histogram_bins = 5
"""


@pytest.mark.parametrize("extra", ["", "accumulate = 2", "clip_norm = 1e-6"])
def test_the_torch_backend_writes_gradient_histograms(tmp_path, extra):
    """Through the CLI: ``grads/<param>`` at steps 3 and 6, the gradients the optimizer got."""
    pytest.importorskip("engine_torch")
    (tmp_path / "tbtoy.py").write_text(TOY)
    (tmp_path / "spec.toml").write_text(TORCH_SPEC % extra)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "engine", "run", "spec.toml", "--run-dir", "run", "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    reader = accumulate(tmp_path / "run/tensorboard")
    assert set(reader.Tags()["histograms"]) == {"weights/weight", "weights/bias", "grads/weight", "grads/bias"}
    for name, size in (("weight", 8), ("bias", 2)):
        grads = reader.Histograms(f"grads/{name}")
        assert [h.step for h in grads] == [3, 6]
        for h in grads:
            value = h.histogram_value
            assert value.num == size == sum(value.bucket)
            assert value.sum_squares > 0 and value.min < value.max  # real gradients, not zeros
            if extra.startswith("clip_norm"):
                assert value.sum_squares > 1e-10  # recorded before clipping to a norm of 1e-6
