"""``batch_size = "auto"`` through the CLI on CPU: the size fits the budget, is recorded in the run's
spec.toml, leaves the run bit-identical to one with that size, and a resume reuses it unprobed."""

from __future__ import annotations

import re
import signal
import tomllib
from pathlib import Path
from typing import Any

import pytest
from torch_helpers import assert_bit_identical, base_spec, engine, error_lines, toml_spec, weights

FINDER_LINE = 'engine: backend.batch_size = "auto"'


def auto_spec(max_memory: str = "20 KiB", **backend: Any) -> dict[str, Any]:
    spec = base_spec(batch_size="auto", max_memory=max_memory, **backend)
    spec["run"]["plugins"] = ["torchtoy_kill"]
    spec["loop"].update({"max_epochs": 3, "checkpoint_every": "2 steps"})
    return spec


def recorded_size(run_dir: Path) -> Any:
    return tomllib.loads((run_dir / "spec.toml").read_text())["backend"]["batch_size"]


def checked_size(tmp_path: Path, spec: dict[str, Any]) -> int:
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    result = engine("check", "spec.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return int(re.search(r"^batch_size = (\d+)$", result.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]


def test_the_size_grows_with_the_budget_and_stays_within_max_batch_size(tmp_path: Path) -> None:
    small = checked_size(tmp_path, auto_spec("16 KiB"))
    large = checked_size(tmp_path, auto_spec("24 KiB"))
    assert 1 <= small < large <= 96
    assert checked_size(tmp_path, auto_spec("1 GiB", max_batch_size=24)) == 24
    assert checked_size(tmp_path, auto_spec("1 GiB")) == 96  # the training set's size caps it


def test_auto_trains_bit_identical_to_the_chosen_fixed_size_and_resumes_without_probing(tmp_path: Path) -> None:
    (tmp_path / "auto.toml").write_text(toml_spec(auto_spec()))
    whole = engine("run", "auto.toml", "--run-dir", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    assert whole.stderr.count(FINDER_LINE) == 1 and "largest of 1..96 that fits" in whole.stderr
    size = recorded_size(tmp_path / "whole")
    assert isinstance(size, int) and 1 < size < 96

    fixed = base_spec(batch_size=size)
    fixed["loop"] = auto_spec()["loop"]
    (tmp_path / "fixed.toml").write_text(toml_spec(fixed))
    assert engine("run", "fixed.toml", "--run-dir", "fixed", "-q", cwd=tmp_path).returncode == 0
    assert_bit_identical(weights(tmp_path / "whole/model/final.safetensors"),
                         weights(tmp_path / "fixed/model/final.safetensors"))

    killed = engine("run", "auto.toml", "--run-dir", "split", "-q", cwd=tmp_path, env={"TORCHTOY_KILL_AT": "5"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert recorded_size(tmp_path / "split") == size
    resumed = engine("run", "auto.toml", "--run-dir", "split", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f'{FINDER_LINE}: {size} (recorded in ' in resumed.stderr and "not probed again" in resumed.stderr
    assert "that fits" not in resumed.stderr and "resuming with changes" not in resumed.stderr
    assert recorded_size(tmp_path / "split") == size
    assert_bit_identical(weights(tmp_path / "split/model/final.safetensors"),
                         weights(tmp_path / "whole/model/final.safetensors"))


@pytest.mark.parametrize(("backend", "says"), [
    ({"max_memory": None}, 'batch_size: batch_size = "auto" on cpu needs a memory budget'),
    ({"max_memory": "1 KiB"}, "a training step of one row needs more than max_memory (1.00 KiB)"),
    ({"max_memory": "lots"}, "backend.max_memory: expected a size such as"),
    ({"batch_size": "big"}, "backend.batch_size: expected an integer > 0 or \"auto\", got 'big'"),
    ({"data": "torchtoy:loader_datasets"}, "cannot change a ready DataLoader's batch size"),
])
def test_what_the_finder_cannot_do_is_one_line_at_check(tmp_path: Path, backend: dict[str, Any], says: str) -> None:
    spec = auto_spec()
    spec["backend"].update(backend)
    spec["backend"] = {k: v for k, v in spec["backend"].items() if v is not None}
    (tmp_path / "spec.toml").write_text(toml_spec(spec))
    # run refuses what check refuses (both set the backend up); one case runs both
    for command in ("check", "run") if backend.get("max_memory") == "1 KiB" else ("check",):
        result = engine(command, "spec.toml", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        [line] = error_lines(result.stderr)
        assert says in line, line
    assert not (tmp_path / "runs").exists()
