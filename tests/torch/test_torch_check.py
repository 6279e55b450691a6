"""``engine check`` sets a torch run up as ``run`` does (model, data, optimizer, one batch
through the model, the loss and the metrics) and refuses the same mistakes, writing nothing;
``run`` refuses them before its run directory exists."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from torch_helpers import assert_bit_identical, base_spec, engine, error_lines, toml_spec, weights

from engine._core.cli.main import main
from engine.testing import run_spec

METRICS_MODULE = "def broken(outputs, targets):\n    raise ValueError('my metric is broken')\n"


def _with(spec: dict[str, Any], section: str, **values: Any) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    spec.setdefault(section, {}).update(values)
    return spec


# (id, spec, exit status, words of the one error line)
MISTAKES = [
    ("unknown optimizer", base_spec(optimizer={"use": "adamx", "lr": 0.1}), 2, ["unknown optimizer 'adamx'"]),
    ("optimizer option", base_spec(optimizer={"use": "sgd", "lr": 0.1, "betas": [0.9, 0.99]}), 2, ["betas"]),
    ("lr nan", base_spec(optimizer={"use": "sgd", "lr": float("nan")}), 2, ["backend.optimizer", "finite"]),
    ("missing model module", base_spec(model="no_such_module:Tiny"), 2, ["no_such_module", "backend.model"]),
    ("missing model attribute", base_spec(model="torchtoy:NoSuchModel"), 2, ["'NoSuchModel'"]),
    ("missing data attribute", base_spec(data="torchtoy:no_such_data"), 2, ["'no_such_data'", "backend.data"]),
    ("loss shape", base_spec(loss="bce_with_logits"), 2, ["bce_with_logits", "(16, 3) float32", "backend.loss"]),
    ("batch beyond the data", base_spec(batch_size=200, drop_last=True), 2,
     ["the training data has 0 batch(es) per epoch"]),
    ("metric not callable", base_spec(metrics=["torchtoy:FETCHED"]), 2,
     ["backend.metrics[0]", "'torchtoy:FETCHED' is a list, not a function"]),
    ("metric that raises", base_spec(metrics=["mymetrics:broken"]), 1,
     ["metric 'mymetrics:broken'", "ValueError: my metric is broken"]),
    ("early-stop monitor", _with(base_spec(), "early_stop", monitor="val/acc"), 2,
     ["early_stop.monitor: 'val/acc' is not a metric the backend reports", "did you mean 'val/accuracy'?",
      "val/accuracy, val/loss"]),
    ("checkpoint monitor", _with(base_spec(metrics=["f1"]), "checkpoint", monitor="val/f1_score"), 2,
     ["checkpoint.monitor: 'val/f1_score'", "did you mean 'val/f1'?"]),
]
if not torch.cuda.is_available():
    MISTAKES.append(("cuda without cuda", base_spec(device="cuda"), 2, ["'cuda'", "backend.device"]))


@pytest.fixture
def cli_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``engine COMMAND spec.toml`` through the CLI's ``main`` in this process, in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "mymetrics.py").write_text(METRICS_MODULE)

    def run_main(spec: dict[str, Any], command: str) -> tuple[int, list[str], str]:
        (tmp_path / "spec.toml").write_text(toml_spec(spec))
        capsys.readouterr()
        code = main([command, "spec.toml", *(["--run-dir", "run", "-q"] if command == "run" else [])])
        stderr = capsys.readouterr().err
        return code, error_lines(stderr), stderr
    return run_main


@pytest.mark.parametrize(("spec", "status", "words"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_check_and_run_refuse_the_mistake_before_anything_is_written(tmp_path: Path, cli_main: Any,
                                                                    spec: dict[str, Any], status: int,
                                                                    words: list[str]) -> None:
    for command in ("check", "run"):
        code, lines, stderr = cli_main(spec, command)
        assert code == status and len(lines) == 1, stderr
        for word in words:
            assert word in lines[0], lines[0]
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "__pycache__") == \
            ["mymetrics.py", "spec.toml"], f"{command} wrote files"


def test_check_from_a_subprocess_passes_a_good_spec_and_writes_nothing(tmp_path: Path) -> None:
    spec = _with(base_spec(metrics=["accuracy", "f1"]), "early_stop", monitor="val/accuracy")
    spec["checkpoint"] = {"monitor": "val/f1", "save_top_k": 1, "storage": "ckpt"}
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("check", "spec.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_the_one_batch_check_leaves_the_run_bit_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine_torch.backend import TorchBackend

    spec = base_spec(metrics=["accuracy"])
    spec["loop"] = {"max_steps": 8, "eval_every": "4 steps", "log_every": "2 steps"}
    with_check = run_spec(toml_spec(spec), tmp_path / "with")
    monkeypatch.setattr(TorchBackend, "dry_run", lambda self, run: None)
    without = run_spec(toml_spec(spec), tmp_path / "without")
    assert with_check.exit_code == without.exit_code == 0
    assert_bit_identical(weights(tmp_path / "with/model/final.safetensors"),
                         weights(tmp_path / "without/model/final.safetensors"))
    measured = ("sys/memory_peak", "sys/samples_per_s")  # of the machine, not of the training
    assert ({k: v for k, v in with_check.summary["metrics"].items() if k not in measured}
            == {k: v for k, v in without.summary["metrics"].items() if k not in measured})
