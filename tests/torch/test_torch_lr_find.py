"""``engine lr-find``: the learning-rate range test of a torch spec, through the command line."""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path

import pytest
from engine_torch.lr_find import learning_rates, range_test
from engine_torch.optim import optimizer_classes
from torch_helpers import HERE, base_spec, cli_env, engine, error_lines, toml_spec

from engine.testing import cli
from engine.testing.without import engine_without

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
#: torch.optim classes the torch backend cannot train with, for ``engine run`` as for lr-find:
#: LBFGS wants a closure and one parameter group, SparseAdam sparse gradients, Muon 2-D parameters only.
UNTRAINABLE = {"lbfgs", "sparseadam", "muon"}


def suggestion(stdout: str) -> float:
    """The suggested rate, checked against the ``--set`` line printed to use it."""
    found = re.search(r"^suggested learning rate: (\S+)", stdout, re.M)
    assert found, stdout
    assert f"--set backend.optimizer.lr={found.group(1)}" in stdout
    return float(found.group(1))


def toy_spec(tmp_path: Path, **backend: object) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(toml_spec(base_spec(**backend)))
    return path


@pytest.mark.parametrize("optimizer", [
    'backend.optimizer={use="sgd",lr=0.1,momentum=0.9}',
    'backend.optimizer={use="adamw",lr=0.003,weight_decay=0.01}',
])
def test_digits_suggestion_is_sane_and_nothing_is_written_but_the_plot(tmp_path: Path, optimizer: str) -> None:
    pytest.importorskip("sklearn")
    plot = tmp_path / "plots" / "lr.png"
    result = engine("lr-find", "examples/digits_mlp.toml", "--set", optimizer,
                    "--set", f'run.dir="{tmp_path / "runs"}"', "--output", str(plot), cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert 1e-4 <= suggestion(result.stdout) <= 1
    assert not (tmp_path / "runs").exists()
    if HAS_MATPLOTLIB:
        assert plot.read_bytes().startswith(PNG_MAGIC)
        assert f"wrote {plot}" in result.stdout
    else:
        assert not plot.exists() and "pip install matplotlib" in result.stderr
    assert sorted(path.name for path in tmp_path.rglob("*")) == (["lr.png", "plots"] if HAS_MATPLOTLIB else [])


def test_the_plot_goes_to_lr_find_run_name_png_by_default(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    spec = toy_spec(tmp_path)
    result = cli("lr-find", spec.name, "--steps", "20", cwd=tmp_path, in_process=True)
    assert result.code == 0, result.err
    assert (tmp_path / "lr-find-toy.png").read_bytes().startswith(PNG_MAGIC)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lr-find-toy.png", "toy.toml"]


def test_without_matplotlib_the_suggestion_is_printed_and_no_plot_written(tmp_path: Path) -> None:
    spec = toy_spec(tmp_path)
    result = engine_without(["matplotlib"], ["lr-find", spec.name, "--steps", "20"], cwd=tmp_path,
                            env=cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    suggestion(result.stdout)
    assert "engine: warning: no plot written: matplotlib is not installed — pip install matplotlib" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["toy.toml"]


def test_divergence_stops_the_sweep_early(tmp_path: Path) -> None:
    spec = toy_spec(tmp_path, optimizer={"use": "sgd", "lr": 0.1})
    result = cli("lr-find", spec.name, "--min-lr", "0.01", "--max-lr", "1e8", "--steps", "100",
                 "--output", "plot.png", cwd=tmp_path, in_process=True)
    assert result.code == 0, result.err
    stopped = re.search(r"^stopped at step (\d+) of 100: the loss (diverged|was (nan|inf))", result.out, re.M)
    assert stopped, result.out
    assert int(stopped.group(1)) < 100
    assert 0.01 / 10 <= suggestion(result.out) <= 1e8 / 10


@pytest.mark.parametrize("name", sorted(set(optimizer_classes()) - UNTRAINABLE))
def test_every_optimizer_the_backend_trains_with(tmp_path: Path, name: str) -> None:
    spec = toy_spec(tmp_path, optimizer={"use": name})
    result = cli("lr-find", str(spec), "--steps", "12", "--output", str(tmp_path / "plot.png"),
                 cwd=HERE, in_process=True)
    assert result.code == 0, result.err
    assert f"range test of {spec}: {name}, 12 steps" in result.out
    suggestion(result.out)


def test_an_optimizer_the_backend_refuses_is_refused_as_engine_run_refuses_it(tmp_path: Path) -> None:
    spec = toy_spec(tmp_path, optimizer={"use": "lbfgs"})
    found = [cli(command, str(spec), cwd=HERE, in_process=True) for command in ("check", "lr-find")]
    assert [result.code for result in found] == [2, 2]
    assert found[1].error_lines == found[0].error_lines
    assert len(found[1].error_lines) == 1 and "backend.optimizer" in found[1].err


def test_a_spec_mistake_is_one_line_and_exit_2(tmp_path: Path) -> None:
    spec = toy_spec(tmp_path)
    result = engine("lr-find", spec.name, "--set", "backend.batch_sise=8", cwd=tmp_path, env=cli_env(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(error_lines(result.stderr)) == 1
    assert "batch_sise" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["toy.toml"]


@pytest.mark.parametrize(("arguments", "place"), [
    (["--min-lr", "0"], "--min-lr"),
    (["--min-lr", "1", "--max-lr", "0.1"], "--max-lr"),
    (["--steps", "1"], "--steps"),
    (["--output", "plot.jpg"], "--output"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path, arguments: list[str], place: str) -> None:
    spec = toy_spec(tmp_path)
    result = cli("lr-find", str(spec), *arguments, cwd=HERE, in_process=True)
    assert result.code == 2
    assert [line.split(": ")[2] for line in result.error_lines] == [place]


def test_a_backend_other_than_torch_is_refused_with_the_fix(tmp_path: Path) -> None:
    spec = tmp_path / "testing.toml"
    spec.write_text('[run]\nname = "t"\n[loop]\nmax_steps = 5\n[backend]\nuse = "testing"\n')
    result = engine("lr-find", spec.name, cwd=tmp_path, env=cli_env(tmp_path))
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        "engine: error: backend.use: lr-find sweeps the learning rate of a torch model; this spec's backend is "
        "'testing' — use it with a spec whose backend.use = \"torch\" (for other backends, search the learning "
        "rate with engine tune)"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["testing.toml"]


BREAKS_ON_STEP_3 = '''
import torch
from torchtoy import Tiny


class BreaksOnStep3(Tiny):
    calls = 0

    def forward(self, x):
        if self.training:
            type(self).calls += 1
            if type(self).calls == 3:
                raise ValueError("the user's model broke at its third training batch")
        return super().forward(x)
'''


def test_user_code_failing_in_the_sweep_is_exit_1_with_its_traceback(tmp_path: Path) -> None:
    (tmp_path / "lrfind_breaks.py").write_text(BREAKS_ON_STEP_3)
    spec = toy_spec(tmp_path, model="lrfind_breaks:BreaksOnStep3")
    result = engine("lr-find", spec.name, "--output", "plot.png", cwd=tmp_path, env=cli_env(tmp_path))
    assert result.returncode == 1
    assert "---- traceback from your code ----" in result.stderr
    assert "the user's model broke at its third training batch" in result.stderr
    assert error_lines(result.stderr) == [
        "engine: error: backend: step 3 of the range test (lr 1.45e-07) raised ValueError: the user's model "
        "broke at its third training batch"]
    assert {path.name for path in tmp_path.iterdir()} - {"__pycache__"} == {"lrfind_breaks.py", "toy.toml"}


NAN_MODEL = '''
import torch
from torchtoy import Tiny


class NanInTraining(Tiny):
    def forward(self, x):
        out = super().forward(x)
        return out * float("nan") if self.training else out
'''


def test_a_loss_that_is_not_finite_from_the_start_is_a_failure_not_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "lrfind_nan.py").write_text(NAN_MODEL)
    spec = toy_spec(tmp_path, model="lrfind_nan:NanInTraining")
    result = cli("lr-find", spec.name, "--output", "plot.png", cwd=tmp_path, in_process=True)
    assert result.code == 1
    assert result.error_lines == ["engine: error: lr-find: the loss of the first step was nan, before any rate "
                                  "could act — find what makes the model's training loss not finite (its data, "
                                  "its initial weights): the sweep needs a finite loss to start from"]
    assert "suggested" not in result.out
    assert {path.name for path in tmp_path.iterdir()} - {"__pycache__"} == {"lrfind_nan.py", "toy.toml"}


def test_the_sweep_smooths_stops_at_four_times_the_best_and_suggests_a_tenth_of_the_lowest() -> None:
    """On a made-up loss: falls to 1.0 at lr 1e-2, then grows tenfold per decade."""
    def loss(index: int, lr: float) -> float:
        return 3.0 - 2.0 * min(1.0, (7 + math.log10(lr)) / 5) + (max(0.0, math.log10(lr) + 2) * 30) ** 2
    result = range_test(loss, 1e-7, 10, 81)
    assert learning_rates(1e-7, 10, 81)[::10] == pytest.approx([10.0 ** k for k in range(-7, 2)])
    assert result.smoothed[0] == pytest.approx(result.losses[0])  # bias-corrected: not pulled towards 0
    assert result.stopped is not None and "diverged" in result.stopped and len(result.lrs) < 81
    assert result.smoothed[-1] > 4 * min(result.smoothed) >= result.smoothed[-2]
    assert result.suggestion == pytest.approx(result.lrs[result.smoothed.index(min(result.smoothed))] / 10)
    assert 1e-3 / 10 <= result.suggestion <= 1e-1 / 10
