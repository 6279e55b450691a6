"""``sys/*`` metrics through the CLI: peak memory and samples/s at the log cadence, tokens/s for
text batches (non-padding tokens), and the progress line showing them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from torch_helpers import base_spec, engine, toml_spec

SYS = {"sys/memory_peak", "sys/samples_per_s", "sys/tokens_per_s"}


def records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def run(tmp_path: Path, spec: dict[str, Any], *args: str) -> Any:
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("run", "spec.toml", "--run-dir", "run", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result


def test_memory_and_samples_per_second_come_with_every_training_log(tmp_path: Path) -> None:
    run(tmp_path, base_spec(), "-q")
    logged = records(tmp_path / "run")
    train = [r for r in logged if "train/loss" in r]
    assert [r["step"] for r in train] == list(range(2, 19, 2))  # log_every = "2 steps", 18 steps
    for record in train:
        assert record["sys/memory_peak"] > 10 * 2**20  # the process's peak RSS, in bytes
        assert record["sys/samples_per_s"] > 0
        assert "sys/tokens_per_s" not in record  # tensor batches carry no tokens
    assert all(not SYS & r.keys() for r in logged if "train/loss" not in r)  # not with evaluations


@pytest.mark.parametrize("accumulate", [1, 2])
def test_tokens_per_second_counts_only_non_padding_tokens(tmp_path: Path, accumulate: int) -> None:
    spec = base_spec(model="memtoy:TokenModel", data="memtoy:token_datasets", loss="model", metrics=[],
                     batch_size=8, shuffle=False, accumulate=accumulate)
    run(tmp_path, spec, "-q")
    train = [r for r in records(tmp_path / "run") if "train/loss" in r]
    assert train
    for record in train:
        # rows of 8 ids with 3, 4, 5, 6 real ones in turn: 4.5 tokens a row in every batch of 8
        assert record["sys/tokens_per_s"] / record["sys/samples_per_s"] == pytest.approx(4.5)


def test_the_progress_line_shows_throughput_and_memory(tmp_path: Path) -> None:
    spec = base_spec()
    spec["loop"].update({"log_every": "1 step", "eval_every": "3 epochs"})
    result = run(tmp_path, spec, "--plain")
    [line] = [line for line in result.stderr.splitlines() if line.startswith("step 1 ")]
    assert "samples/s" in line and "GiB" in line, line
