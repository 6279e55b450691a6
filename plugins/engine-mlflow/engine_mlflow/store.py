"""The MLflow side: where runs go, and one MLflow run written through its own client.

Everything goes through an ``MlflowClient`` bound to one tracking URI, never MLflow's
global "active run", so several trackers in one process write to different places.
"""

from __future__ import annotations

import contextlib
import io
import os
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_METRICS_PER_BATCH, MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH

from engine import EngineError, RunStatus

#: engine's run status -> MLflow's. An interrupted run may be resumed, and turns RUNNING again.
STATUS: dict[str, str] = {RunStatus.COMPLETED: "FINISHED", RunStatus.STOPPED: "FINISHED",
                          RunStatus.FAILED: "FAILED", RunStatus.INTERRUPTED: "KILLED"}
MAX_PARAM_LENGTH = MAX_PARAM_VAL_LENGTH

#: A metric point as the tracker buffers it: (key, value, timestamp in ms, step).
Point = tuple[str, float, int, int]
T = TypeVar("T")


def tracking_uri(configured: str, run_dir: Path) -> str:
    """The configured URI, else ``$MLFLOW_TRACKING_URI``, else a file store in ``<run dir>/mlruns``.

    MLflow 3 refuses file stores unless ``MLFLOW_ALLOW_FILE_STORE`` is true; a folder (the
    default store, a ``file:`` URI, a path) sets it for this process (a value the user set
    is left alone). The file
    store needs no database migrations (seconds per new sqlite store) and works with
    mlflow-skinny.
    """
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI") or (run_dir / "mlruns").resolve().as_uri()
    if _is_folder(uri):  # asked for by name, or the default: the file store MLflow 3 keeps behind a switch
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return uri


def _is_folder(uri: str) -> bool:
    """A ``file:`` URI or a plain path (not ``scheme://...``, ``databricks``, ...)."""
    scheme = urllib.parse.urlparse(uri).scheme
    return scheme == "file" or (not scheme and ("/" in uri or uri.startswith(".")))


class MlflowRun:
    """One MLflow run: batched metrics, params and tags, artifacts, and its final status."""

    def __init__(self, client: MlflowClient, run_id: str):
        self.client = client
        self.run_id = run_id

    @classmethod
    def create(cls, uri: str, experiment: str, name: str, tags: dict[str, str]) -> MlflowRun:
        """A new run in ``experiment`` (created if missing) at ``uri``."""
        client = MlflowClient(tracking_uri=uri)
        created = client.create_run(_experiment_id(client, experiment), run_name=name, tags=tags)
        return cls(client, created.info.run_id)

    @classmethod
    def attach(cls, uri: str, run_id: str) -> MlflowRun:
        """The existing run ``run_id`` at ``uri``, marked running again (a resume)."""
        client = MlflowClient(tracking_uri=uri)
        try:
            client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            raise EngineError(f"the MLflow run {run_id} this run was logging to is not at {uri}",
                              fix="resume with the tracking_uri the run started with") from None
        client.update_run(run_id, status="RUNNING")
        return cls(client, run_id)

    def log_metrics(self, points: Iterable[Point]) -> None:
        metrics = [Metric(key, value, timestamp, step) for key, value, timestamp, step in points]
        for chunk in _chunks(metrics, MAX_METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=chunk)

    def log_params(self, params: dict[str, str]) -> None:
        for chunk in _chunks([Param(k, v) for k, v in params.items()], MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(self.run_id, params=chunk)

    def set_tags(self, tags: dict[str, str]) -> None:
        for chunk in _chunks([RunTag(k, v) for k, v in tags.items()], MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(self.run_id, tags=chunk)

    def upload(self, path: Path, folder: str | None = None) -> None:
        """Upload a file or a folder's contents under ``folder`` in the run's artifacts."""
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), folder)
        elif path.is_file():
            self.client.log_artifact(self.run_id, str(path), folder)

    @property
    def artifact_uri(self) -> str:
        return str(self.client.get_run(self.run_id).info.artifact_uri)

    def last_steps(self) -> dict[str, int]:
        """The highest step already recorded for each metric of the run."""
        keys = self.client.get_run(self.run_id).data.metrics
        return {key: max((m.step for m in self.client.get_metric_history(self.run_id, key)), default=-1)
                for key in keys}

    def finish(self, status: str) -> None:
        # MLflow prints the run's URL (with any credentials in it) on stdout, under the console
        with contextlib.redirect_stdout(io.StringIO()):
            self.client.set_terminated(self.run_id, status=STATUS.get(status, "FAILED"))


def _experiment_id(client: MlflowClient, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return str(client.create_experiment(name))
        except MlflowException as exc:  # another process created it first
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            found = client.get_experiment_by_name(name)
            assert found is not None
    if found.lifecycle_stage == "deleted":
        raise EngineError(f"the MLflow experiment {name!r} is deleted",
                          fix="restore it (mlflow experiments restore) or choose another experiment name")
    return str(found.experiment_id)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
