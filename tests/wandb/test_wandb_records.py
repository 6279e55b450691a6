"""What an offline W&B run holds after ``engine run``: the redacted spec as config, every
metric at its step, the summary, the models as artifacts, a failed run marked failed; and
nothing in the working directory, no W&B service left running."""

from __future__ import annotations

import json
import os
from pathlib import Path

from wbtools import WandbRun, offline_runs, pid_alive, wandb_services

from engine.testing import run_spec

SPEC = """
[run]
name = "wb"
description = "a small run"

[loop]
max_steps = 20
eval_every = "5 steps"
log_every = "2 steps"

[backend]
use = "testing"
{backend}

[checkpoint]
monitor = "val/loss"
save_top_k = 1

[[tracker]]
use = "wandb"
tags = ["smoke", "cpu"]
group = "g1"
"""


def _logged(run_dir: Path, key: str) -> list[tuple[int, float]]:
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r[key]) for r in records if key in r]


def _only_run(run_dir: Path) -> WandbRun:
    runs = offline_runs(run_dir / "wandb")
    assert len(runs) == 1, [r.folder for r in runs]
    return runs[0]


def test_config_metrics_summary_and_models(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(backend=""))
    result = cli("run", "spec.toml", "--set", 'tracker[0].notes="set on the command line"')
    assert result.code == 0, result
    assert "warning" not in result.err, result
    assert "upload later with `wandb sync runs/wb/wandb`" in result.err, result  # no credentials: offline
    assert "wandb:" not in result.err.replace("engine: wandb:", "") + result.out, result  # W&B itself is quiet
    run_dir = tmp_path / "runs" / "wb"
    summary = json.loads((run_dir / "summary.json").read_text())
    found = _only_run(run_dir)

    assert found.run.display_name == "wb" and found.run.project == "wb" and found.run.run_group == "g1"
    assert list(found.run.tags) == ["smoke", "cpu"] and found.run.notes == "set on the command line"
    assert found.config == {
        "run": {"name": "wb", "description": "a small run"},
        "loop": {"max_steps": 20, "eval_every": "5 steps", "log_every": "2 steps"},
        "backend": {"use": "testing"},
        "checkpoint": {"monitor": "val/loss", "save_top_k": 1},
        "tracker": [{"use": "wandb", "tags": ["smoke", "cpu"], "group": "g1", "notes": "set on the command line"}],
    }
    assert found.history_keys() == {"train/loss", "lr", "val/loss", "val/mae"}
    for key in ("train/loss", "lr", "val/loss", "val/mae"):
        assert found.history(key) == _logged(run_dir, key), key
    assert [step for step, _ in found.history("val/loss")] == [5, 10, 15, 20]

    written = found.summary
    for key, value in summary["metrics"].items():
        assert written[key] == value, key
    assert written["best"] == summary["best"] and summary["best"]["metric"] == "val/loss"
    assert written["engine"]["status"] == "completed" and written["engine"]["steps"] == 20
    assert found.exit_code == 0

    models = {alias: artifact for artifact in found.artifacts() for alias in artifact.aliases if alias != "latest"}
    assert sorted(models) == ["best", "final"]
    for tag, artifact in models.items():
        assert artifact.name == f"model-{found.run_id}" and artifact.type == "model"
        [entry] = artifact.manifest.contents
        assert Path(entry.local_path) == (run_dir / summary["model"][tag]).resolve() \
            or Path(entry.local_path) == (tmp_path / summary["model"][tag]).resolve()
        assert Path(entry.local_path).is_file()

    assert not (tmp_path / "wandb").exists()  # W&B writes under the run directory only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs", "spec.toml", "wandb-home"]


def test_a_failed_run_is_failed_in_wandb(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(backend="fail_at_step = 12"))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 1, result
    run_dir = tmp_path / "runs" / "wb"
    found = _only_run(run_dir)
    assert found.exit_code == 1
    assert found.summary["engine"]["status"] == "failed"
    assert "testing backend failure at step 12" in found.summary["engine"]["reason"]
    assert [step for step, _ in found.history("train/loss")] == [2, 4, 6, 8, 10]


def test_no_wandb_service_outlives_the_run(tmp_path, monkeypatch):
    """In a process that goes on (a notebook, a tuning worker), the run shuts W&B's service down."""
    monkeypatch.chdir(tmp_path)
    before = set(wandb_services())
    result = run_spec(SPEC.format(backend=""), tmp_path / "run")
    assert result.status == "completed"
    assert len(offline_runs(tmp_path / "run" / "wandb")) == 1
    mine = {pid for pid, parent in wandb_services().items() if parent == os.getpid() and pid not in before}
    assert not [pid for pid in mine if pid_alive(pid)], mine


def test_cross_validation_folds_are_runs_of_one_group(cli, tmp_path):
    spec = SPEC.format(backend="").replace('group = "g1"\n', "") + "\n[cv]\nfolds = 2\n"
    (tmp_path / "spec.toml").write_text(spec)
    result = cli("run", "spec.toml", "-q")
    assert result.code == 0, result
    for fold in (0, 1):
        run_dir = tmp_path / "runs" / "wb" / f"fold-{fold}"
        found = _only_run(run_dir)
        assert (found.run.display_name, found.run.run_group, found.run.project) == (f"wb-fold{fold}", "wb", "wb")
        assert found.history("val/loss") == _logged(run_dir, "val/loss")


def test_a_program_s_own_wandb_run_goes_on(tmp_path, monkeypatch):
    """A script that uses W&B itself and runs a spec in between keeps its own run and service."""
    import wandb

    monkeypatch.chdir(tmp_path)
    own = wandb.init(project="mine", mode="offline", dir=str(tmp_path / "own"))
    try:
        own.log({"before": 1.0}, step=1)
        result = run_spec(SPEC.format(backend=""), tmp_path / "run")
        assert result.status == "completed"
        own.log({"after": 2.0}, step=2)
    finally:
        own.finish()
        wandb.teardown()
    [found] = offline_runs(tmp_path / "own")
    assert found.history("before") == [(1, 1.0)] and found.history("after") == [(2, 2.0)]
    assert found.exit_code == 0


def test_without_models_or_disabled(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.format(backend=""))
    result = cli("run", "spec.toml", "-q", "--set", "tracker[0].log_model=false")
    assert result.code == 0, result
    assert _only_run(tmp_path / "runs" / "wb").artifacts() == []
    result = cli("run", "spec.toml", "-q", "--run-dir", "off", "--set", 'tracker[0].mode="disabled"')
    assert result.code == 0 and result.err == "", result
    assert not list((tmp_path / "off").rglob("*.wandb"))
