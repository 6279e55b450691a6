"""What ``engine check`` and ``engine run`` refuse in a deepspeed spec: one line, exit 2."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("engine_torch")

from ds_helpers import engine, environment, torch_spec, write_spec


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("engine: error:")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr and "engine: error:" not in done.stdout
    return errors[0]


def test_a_config_file_that_disagrees_with_the_precision_is_refused_by_check_and_run(tmp_path: Path) -> None:
    (tmp_path / "ds.json").write_text(json.dumps({"fp16": {"enabled": True}, "zero_optimization": {"stage": 2}}))
    spec = torch_spec("conflict", {"config": "ds.json"})
    spec["precision"] = {"use": "bf16-mixed"}
    write_spec(tmp_path, spec)
    line = one_error_line(engine("check", "spec.toml", cwd=tmp_path))
    assert "ds.json sets fp16.enabled = true" in line and '"bf16-mixed"' in line, line
    assert one_error_line(engine("run", "spec.toml", cwd=tmp_path)) == line
    assert not (tmp_path / "runs" / "conflict" / "summary.json").exists()


@pytest.mark.parametrize(("config", "backend", "expected"), [
    ({"gradient_accumulation_steps": 4}, {"accumulate": 2}, "gradient_accumulation_steps = 4"),
    ({"gradient_clipping": 1.0}, {}, "gradient_clipping = 1.0"),
    ({"optimizer": {"type": "Adam"}}, {}, "'optimizer' section"),
    ({"train_batch_size": 64}, {}, "train_batch_size = 64"),
    ({"zero_optimization": {"stage": 3}}, {"strategy": {"zero_stage": 1}}, "zero_optimization.stage = 3"),
])
def test_each_setting_the_engine_owns_is_refused_when_the_config_file_disagrees(
        tmp_path: Path, config: dict, backend: dict, expected: str) -> None:
    (tmp_path / "ds.json").write_text(json.dumps(config))
    strategy = {"config": "ds.json", **backend.pop("strategy", {})}
    spec = torch_spec("conflict", strategy)
    spec["backend"].update(backend)
    write_spec(tmp_path, spec)
    assert expected in one_error_line(engine("check", "spec.toml", cwd=tmp_path))


def test_settings_deepspeed_cannot_take_are_refused_by_check(tmp_path: Path) -> None:
    spec = torch_spec("clip", {"zero_stage": 2})
    spec["backend"]["clip_value"] = 0.5
    write_spec(tmp_path, spec)
    assert "clip_norm" in one_error_line(engine("check", "spec.toml", cwd=tmp_path))
    write_spec(tmp_path, torch_spec("offload", {"zero_stage": 2, "offload_param": True}))
    assert "stage 3" in one_error_line(engine("check", "spec.toml", cwd=tmp_path))
    write_spec(tmp_path, torch_spec("missing", {"config": "nowhere.json"}))
    assert "nowhere.json" in one_error_line(engine("check", "spec.toml", cwd=tmp_path))


def test_check_names_a_missing_deepspeed_with_the_command_that_installs_it(tmp_path: Path) -> None:
    write_spec(tmp_path, torch_spec("missing", {"zero_stage": 2}))
    # this interpreter as one without deepspeed: the import system finds no such module
    hide = ("import runpy, sys; sys.modules['deepspeed'] = None; sys.argv = ['engine', 'check', 'spec.toml']; "
            "runpy.run_module('engine', run_name='__main__', alter_sys=True)")
    done = subprocess.run([sys.executable, "-c", hide], cwd=tmp_path, env=environment(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    line = one_error_line(done)
    assert "'deepspeed'" in line and "pip install 'engine-deepspeed[deepspeed]'" in line, line


def test_float16_on_deepspeeds_cpu_accelerator_is_refused_by_check(tmp_path: Path) -> None:
    pytest.importorskip("deepspeed")
    pytest.importorskip("engine_precision")
    spec = torch_spec("fp16", {"zero_stage": 1})
    spec["precision"] = {"use": "16-mixed"}
    write_spec(tmp_path, spec)
    done = engine("check", "spec.toml", cwd=tmp_path)
    if done.returncode == 0:
        pytest.skip("DeepSpeed's accelerator here trains in float16")
    line = one_error_line(done)
    assert "precision.use" in line and "bf16-mixed" in line, line


def test_deepspeed_files_that_name_code_are_refused_before_deepspeed_unpickles_them() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("deepspeed")
    from engine_deepspeed.checkpoint_files import check_files

    from engine import CheckpointError

    def saved(value: object) -> bytes:
        buffer = io.BytesIO()
        torch.save(value, buffer)
        return buffer.getvalue()

    check_files({"mp_rank_00_model_states.pt": saved({"module": {"w": torch.ones(2)}, "ds_version": "0"})})
    with pytest.raises(CheckpointError, match=r"names (posix|nt)\.getcwd"):
        check_files({"mp_rank_00_model_states.pt": saved({"hook": os.getcwd})})
    with pytest.raises(CheckpointError, match="not one of them"):
        check_files({"../escape.pt": saved({})})
