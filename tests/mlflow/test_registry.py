"""``register``: a successful run's model becomes a new version with tags; ``alias`` points at
it; ``register_if = "better"`` moves the alias only for a better monitored metric."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mltools import only_run, runs_in

SPEC = """
[run]
name = "{name}"

[loop]
max_steps = {steps}
eval_every = "5 steps"

[backend]
use = "testing"
lr = {lr}
{fail}

[checkpoint]
monitor = "val/loss"

[[tracker]]
use = "mlflow"
tracking_uri = "{server}"
experiment = "{model}"
register = "{model}"
{extra}
"""


def _run(cli, tmp_path: Path, server: str, model: str, name: str, *, steps: int = 20, lr: float = 0.05,  # type: ignore[no-untyped-def]
         extra: str = "", fail: str = "", code: int = 0) -> Path:
    spec = tmp_path / f"{name}.toml"
    spec.write_text(SPEC.format(name=name, steps=steps, lr=lr, server=server, model=model, extra=extra, fail=fail))
    result = cli("run", spec.name, "-q")
    assert result.code == code, result
    assert "engine: warning" not in result.err, result
    return tmp_path / "runs" / name


def _best(run_dir: Path) -> float:
    return float(json.loads((run_dir / "summary.json").read_text())["best"]["value"])


def test_a_run_registers_a_tagged_version_with_an_alias(cli, tmp_path, mlflow_server):
    run_dir = _run(cli, tmp_path, mlflow_server, "reg-tags", "first", extra='alias = "candidate"')
    client = MlflowClient(mlflow_server)
    version = client.get_model_version_by_alias("reg-tags", "candidate")
    assert version.version == "1"
    assert version.tags["engine.run_name"] == "first"
    assert version.tags["engine.spec_hash"] == hashlib.sha256((run_dir / "spec.toml").read_bytes()).hexdigest()
    assert version.tags["engine.metric"] == "val/loss"
    assert float(version.tags["engine.metric_value"]) == _best(run_dir)
    assert version.tags["engine.model"] == "best"  # the run has a best model: it is the one registered
    found = only_run(client, "reg-tags")
    assert version.run_id == found.info.run_id
    assert found.data.tags["engine.model_version"] == "1"


def test_better_moves_the_alias_and_a_worse_run_does_not_take_it(cli, tmp_path, mlflow_server):
    better = 'alias = "candidate"\nregister_if = "better"'
    first = _run(cli, tmp_path, mlflow_server, "reg-better", "first", steps=20, extra=better)
    worse = _run(cli, tmp_path, mlflow_server, "reg-better", "worse", steps=5, lr=0.01, extra=better)
    assert _best(worse) > _best(first)

    client = MlflowClient(mlflow_server)
    assert [v.version for v in client.search_model_versions("name='reg-better'")] == ["1"]
    assert client.get_model_version_by_alias("reg-better", "candidate").tags["engine.run_name"] == "first"
    runs = {run.info.run_name: run for run in runs_in(client, "reg-better")}
    assert runs["worse"].data.tags["engine.registered"].startswith("not registered: val/loss"), runs["worse"].data.tags
    assert "engine.model_version" not in runs["worse"].data.tags

    best = _run(cli, tmp_path, mlflow_server, "reg-better", "best", steps=40, extra=better)
    assert _best(best) < _best(first)
    holder = client.get_model_version_by_alias("reg-better", "candidate")
    assert (holder.version, holder.tags["engine.run_name"]) == ("2", "best")


def test_always_registers_every_successful_run_but_not_a_failed_one(cli, tmp_path, mlflow_server):
    _run(cli, tmp_path, mlflow_server, "reg-always", "first", extra='alias = "candidate"')
    _run(cli, tmp_path, mlflow_server, "reg-always", "worse", steps=5, lr=0.01, extra='alias = "candidate"')
    _run(cli, tmp_path, mlflow_server, "reg-always", "broken", fail="fail_at_step = 7", code=1,
         extra='alias = "candidate"')
    client = MlflowClient(mlflow_server)
    assert sorted(v.version for v in client.search_model_versions("name='reg-always'")) == ["1", "2"]
    assert client.get_model_version_by_alias("reg-always", "candidate").tags["engine.run_name"] == "worse"


@pytest.mark.parametrize(("extra", "message"), [
    ('register_if = "better"', "set alias"),
    ('register = ""\nalias = "x"', "need register"),
])
def test_registry_options_are_checked_before_training(cli, tmp_path, extra, message):
    spec = SPEC.format(name="bad", steps=5, lr=0.05, server="http://127.0.0.1:9", model="m", extra=extra, fail="")
    if 'register = ""' in extra:
        spec = spec.replace('register = "m"\n', "")
    (tmp_path / "spec.toml").write_text(spec)
    result = cli("run", "spec.toml", "-q")
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1 and message in result.err, result
    assert not (tmp_path / "runs").exists()
