"""Without a tracking URI, the run goes to a local MLflow file store inside the run directory."""

from __future__ import annotations

from mlflow.tracking import MlflowClient
from mltools import artifact_paths, history, logged, only_run

from engine import hookimpl
from engine._core.run import Run
from engine.testing import run_spec

SPEC = {
    "run": {"name": "local"},
    "loop": {"max_steps": 20, "log_every": "5 steps", "eval_every": "10 steps"},
    "backend": {"use": "testing"},
    "tracker": [{"use": "mlflow"}],
}


def test_default_store_is_in_the_run_directory(tmp_path):
    result = run_spec(SPEC, tmp_path / "run")
    assert result.status == "completed"
    store = result.dir / "mlruns"
    assert store.is_dir()

    client = MlflowClient(store.resolve().as_uri())
    found = only_run(client, "local")  # the experiment defaults to the run's name
    assert found.info.status == "FINISHED"
    assert found.data.params["loop.max_steps"] == "20"
    assert history(client, found.info.run_id, "val/loss") == logged(result.dir, "val/loss")
    assert artifact_paths(client, found.info.run_id) == ["env.json", "model/final.json", "spec.toml", "summary.json"]
    assert found.info.artifact_uri.startswith(store.resolve().as_uri())


class _NotMainProcess:
    """Makes the run look like rank 1 of a distributed run."""

    @hookimpl(tryfirst=True)
    def on_run_start(self, run: Run) -> None:
        run._processes = run.processes.replace(rank=1)  # the view is read-only: the core's own field


def test_only_the_main_process_writes(tmp_path):
    result = run_spec(SPEC, tmp_path / "run", plugins=[_NotMainProcess()])
    assert result.status == "completed"
    assert not (result.dir / "mlruns").exists()
