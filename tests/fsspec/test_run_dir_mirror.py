"""``mirror_run_dir``: the whole run directory kept at the storage URL, and restored on another machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import fsspec
from fsspec_helpers import final_weights, spec_text, summary

from engine.testing import run_spec

MIRROR = "checkpoint.storage_options.mirror_run_dir=true"
FILES = ["env.json", "metrics.jsonl", "model/final.json", "spec.toml", "summary.json"]


def steps_logged(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_the_run_directory_is_copied_next_to_the_checkpoints(tmp_path):
    url = f"memory://engine-tests/{tmp_path.name}"
    result = run_spec(spec_text(url, max_steps=14), tmp_path / "r", overrides=[MIRROR])
    assert result.status == "completed"

    fs = fsspec.filesystem("memory")
    root = f"/engine-tests/{tmp_path.name}/run"
    stored = sorted(path[len(root) + 1:] for path in fs.find(root))
    assert stored == FILES
    for file in FILES:  # the last copy ran after the summary was written: every file is current
        assert fs.cat_file(f"{root}/{file}") == (tmp_path / "r" / file).read_bytes(), file


def test_a_resume_on_a_machine_without_the_run_directory_restores_it(tmp_path):
    url = f"memory://engine-tests/{tmp_path.name}"
    text = spec_text(url, max_steps=14)
    assert run_spec(text, tmp_path / "r", overrides=[MIRROR]).status == "completed"
    shutil.rmtree(tmp_path / "r")  # the machine is gone; the bucket is not

    resumed = run_spec(text, tmp_path / "r", resume=True, overrides=[MIRROR, "loop.max_steps=21"])
    assert resumed.status == "completed" and resumed.summary["steps"] == 21
    # the same as resuming on the machine that kept its run directory
    in_place = spec_text(f"{url}-in-place", max_steps=14)
    run_spec(in_place, tmp_path / "kept")
    run_spec(in_place, tmp_path / "kept", resume=True, overrides=["loop.max_steps=21"])
    assert final_weights(tmp_path / "r") == final_weights(tmp_path / "kept")
    assert steps_logged(tmp_path / "r") == steps_logged(tmp_path / "kept")


def test_on_s3_through_the_command_line(cli, tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint, max_steps=14))
    first = cli("run", "spec.toml", "--quiet", "--set", MIRROR)
    assert first.code == 0, first
    assert sorted(k.removeprefix("runs/r/run/") for k in s3.objects(bucket, "runs/r/run/")) == FILES
    shutil.rmtree(tmp_path / "runs")

    resumed = cli("run", "spec.toml", "--resume", "--quiet", "--set", MIRROR, "--set", "loop.max_steps=21")
    assert resumed.code == 0, resumed
    assert summary(tmp_path / "runs/r")["steps"] == 21
    assert {2, 14, 20} <= set(steps_logged(tmp_path / "runs/r"))  # logged before the move, and after


def test_without_the_mirror_a_missing_run_directory_resumes_from_the_checkpoints_and_says_so(
        cli, tmp_path, s3, bucket):
    (tmp_path / "spec.toml").write_text(spec_text(f"s3://{bucket}/runs/r", endpoint=s3.endpoint, max_steps=7))
    assert cli("run", "spec.toml", "--quiet").code == 0
    shutil.rmtree(tmp_path / "runs")
    resumed = cli("run", "spec.toml", "--resume", "--quiet", "--set", "loop.max_steps=9")
    assert resumed.code == 0, resumed
    assert "holds no records of this run: resuming from" in resumed.err and "Traceback" not in resumed.err
    assert summary(tmp_path / "runs/r")["steps"] == 9
    assert min(steps_logged(tmp_path / "runs/r")) > 7  # the log before the move stayed on the old machine
