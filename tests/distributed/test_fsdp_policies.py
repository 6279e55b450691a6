"""The fsdp strategy's policies (wrap, mixed precision, CPU offload, activation checkpointing)
in real torchrun/gloo processes on 127.0.0.1, observed through files a test plugin writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("engine_torch")

from dist_helpers import engine, max_difference, torch_spec, weights, write_spec

BAD_WRAP = ("engine: error: strategy.wrap: wrap names 'Blok', which no submodule of Blocks is — name classes "
            "of the model's submodules: Block, Linear")


def blocks_spec(name: str, **strategy: Any) -> dict[str, Any]:
    """``fsdptoy.Blocks`` under fsdp with ``strategy`` options, the sharding reported per rank."""
    spec = torch_spec(name, "fsdp", checkpoint_every=None)
    spec["backend"]["model"] = "fsdptoy:Blocks"
    spec["run"]["plugins"] = ["fsdptoy"]
    spec["strategy"].update(strategy)
    return spec


def train(directory: Path, spec: dict[str, Any]) -> tuple[Any, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    write_spec(directory, spec)
    done = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=directory)
    run_dir = directory / "runs" / spec["run"]["name"]
    assert done.returncode == 0, done.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 12, summary
    return done, run_dir


def sharding(directory: Path) -> dict[str, Any]:
    reports = [json.loads((directory / f"sharding-{rank}.json").read_text()) for rank in (0, 1)]
    assert reports[0] == reports[1]
    return reports[0]  # type: ignore[no-any-return]


def dtypes(directory: Path) -> list[str]:
    """The dtype of a block's weight in each training forward pass of rank 0."""
    return (directory / "dtypes-0.txt").read_text().split()


def losses(run_dir: Path) -> list[float]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["train/loss"] for r in records if "train/loss" in r]


@pytest.fixture(scope="module")
def blocks_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``wrap = ["Block"]``: the reference of the policy tests."""
    directory = tmp_path_factory.mktemp("blocks")
    train(directory, blocks_spec("blocks", wrap=["Block"]))
    return directory


def test_wrap_shards_each_named_block(blocks_run: Path) -> None:
    assert sharding(blocks_run)["units"] == {"": "FSDPBlocks", "blocks.0": "FSDPBlock", "blocks.1": "FSDPBlock"}
    assert set(dtypes(blocks_run)) == {"torch.float32"}


def test_by_default_each_child_is_a_unit_and_a_module_list_its_elements(tmp_path: Path) -> None:
    train(tmp_path, blocks_spec("children"))
    assert sharding(tmp_path)["units"] == {"": "FSDPBlocks", "inp": "FSDPLinear", "blocks.0": "FSDPBlock",
                                           "blocks.1": "FSDPBlock", "out": "FSDPLinear"}


def test_bf16_mixed_precision_computes_in_bf16_and_keeps_float32_weights(tmp_path: Path) -> None:
    _, run_dir = train(tmp_path, blocks_spec("bf16", wrap=["Block"], param_dtype="bfloat16",
                                             reduce_dtype="float32"))
    assert set(dtypes(tmp_path)) == {"torch.bfloat16"}  # 12 steps x 2 blocks, all gathered in bf16
    assert len(dtypes(tmp_path)) == 24
    logged = losses(run_dir)
    assert logged[-1] < logged[0] * 0.5, logged
    assert {str(t.dtype) for t in weights(run_dir).values()} == {"torch.float32"}


def test_activation_checkpointing_composes_with_fsdp(tmp_path: Path, blocks_run: Path) -> None:
    spec = blocks_spec("blocks", wrap=["Block"])
    spec["backend"]["activation_checkpointing"] = ["Block"]
    _, run_dir = train(tmp_path, spec)
    # the checkpoint wrapper around each block is the FSDP unit, so its recomputation gathers again
    assert sharding(tmp_path)["units"] == {"": "FSDPBlocks", "blocks.0": "FSDPCheckpointWrapper",
                                           "blocks.1": "FSDPCheckpointWrapper"}
    assert len(dtypes(tmp_path)) == 2 * len(dtypes(blocks_run))  # each block's forward runs again in backward
    reference = weights(blocks_run / "runs" / "blocks")
    assert weights(run_dir).keys() == reference.keys()  # the wrappers leave the names alone
    assert max_difference(weights(run_dir), reference) == 0.0


def test_cpu_offload_on_a_cpu_run_trains_and_says_it_changes_nothing(tmp_path: Path, blocks_run: Path) -> None:
    done, run_dir = train(tmp_path, blocks_spec("blocks", wrap=["Block"], cpu_offload=True))
    note = ("engine: warning: strategy.cpu_offload: this run trains on the CPU, where the parameters already "
            "live in host memory — the option only saves device memory on an accelerator")
    assert done.stderr.count(note) == 1, done.stderr  # said once, by rank 0
    assert sharding(tmp_path)["devices"] == ["cpu"]
    assert max_difference(weights(run_dir), weights(blocks_run / "runs" / "blocks")) == 0.0


def test_a_class_the_model_lacks_is_one_line_in_check_and_run(tmp_path: Path) -> None:
    write_spec(tmp_path, blocks_spec("bad", wrap=["Blok", "Block"]))
    checked = engine("check", "spec.toml", cwd=tmp_path)
    assert checked.returncode == 2, checked.stderr
    assert [line for line in checked.stderr.splitlines() if "error" in line] == [BAD_WRAP], checked.stderr
    run = engine("run", "spec.toml", "--nproc", "2", "-q", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    # each rank says it (they fail alike); the launcher adds nothing to a mistake (status 2)
    assert {line for line in run.stderr.splitlines() if "error" in line} == {BAD_WRAP}, run.stderr
    assert "Traceback" not in checked.stderr + run.stderr
    assert not (tmp_path / "sharding-0.json").exists()


@pytest.mark.parametrize(("options", "message"), [
    ({"wrap": ["Block", "Block"]}, "wrap names 'Block' more than once — name each class once"),
    ({"wrap": [""]}, 'wrap: expected module class names such as ["TransformerBlock"], got an empty name'),
    ({"param_dtype": "int8"}, "param_dtype"),
])
@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_policy_options_are_refused_by_check_and_run(tmp_path: Path, options: dict[str, Any], message: str,
                                                           command: str) -> None:
    write_spec(tmp_path, blocks_spec("bad", **options))
    done = engine(command, "spec.toml", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("engine: error")]
    assert len(errors) == 1 and "strategy" in errors[0] and message in errors[0], done.stderr
    assert "Traceback" not in done.stderr
