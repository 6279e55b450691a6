"""The ``mlflow`` tracker: one MLflow run per engine run, continued across resumes.

When the run starts, MLflow's waits are bounded and the store is asked once
(:mod:`engine_mlflow.connection`). The MLflow run is created at the first log (or at the
end, for a run that never logged), with the effective spec as params and
``spec.toml``/``env.json`` as artifacts. Logging only appends to a list; points go out in
``log_batch`` requests at the first log, every ``flush_secs``, at every checkpoint and at
the end.

Resume: ``state_dict`` holds the MLflow run id and the points not yet sent when the
checkpoint was taken. The resumed process reattaches to that run, sends those points, and
skips every point at a step the run already holds for that metric, so the interrupted
process's points past the checkpoint are not duplicated (MLflow cannot delete points;
with an exact resume they equal the new ones).

At the end the model is logged in its library's flavour (:mod:`engine_mlflow.flavours`) and,
with ``register``, registered (:mod:`engine_mlflow.registry`).

The core's tracker guard calls these methods on the main process only, and turns a
failure into one warning (or a failed run with ``strict = true``).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine import CheckpointInfo, Run, RunFiles, RunStatus, redact, resolve_mode
from engine import __version__ as engine_version
from engine_mlflow import connection, flavours, registry
from engine_mlflow.options import MlflowOptions
from engine_mlflow.params import flat_params, metric_key
from engine_mlflow.store import MAX_PARAM_LENGTH, MlflowRun, Point, tracking_uri

_MAX_PENDING = 1000
_MAX_TAG_LENGTH = 5000


class MlflowTracker:
    """Writes one MLflow run per engine run, to ``tracking_uri``."""

    def __init__(self, options: MlflowOptions):
        self.options = options
        self.mlflow: MlflowRun | None = None
        self.run_id = ""  # restored from a checkpoint: the run to continue
        self.pending: list[Point] = []
        self.last_steps: dict[str, int] = {}
        self.last_flush = -math.inf
        self._keys: dict[str, str] = {}
        self.failed = False

    # ------------------------------------------------------------------ events

    def on_run_start(self, run: Run) -> None:
        """Bound MLflow's waits and ask the store once, before training: an unreachable server
        or a store MLflow refuses fails here, in seconds (the guard warns, or fails a strict run)."""
        connection.bound_waits()
        uri = self.uri(run)
        with self._remote():
            connection.check(uri)

    def on_resume(self, run: Run, checkpoint: CheckpointInfo) -> None:
        if not self.run_id:  # the checkpoint predates the MLflow run: start one at the first log
            return
        with self._remote():
            self.mlflow = MlflowRun.attach(self.uri(run), self.run_id)
            self.last_steps = self.mlflow.last_steps()
            self.mlflow.set_tags({"engine.resumed_from_step": str(checkpoint.step)})
            self.pending = self._unsent(self.pending)
            self.flush(run)

    def on_log(self, run: Run, metrics: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        keys, pending, last = self._keys, self.pending, self.last_steps
        for name, value in metrics.items():
            key = keys.get(name)
            if key is None:
                key = keys[name] = metric_key(name)
            if not last or step > last.get(key, -1):
                pending.append((key, value, now, step))
        if len(self.pending) >= _MAX_PENDING or time.monotonic() - self.last_flush >= self.options.flush_secs:
            self.flush(run)

    def on_checkpoint(self, run: Run, checkpoint: CheckpointInfo) -> None:
        if self.pending:
            self.flush(run)

    def on_run_end(self, run: Run, status: str) -> None:
        if self.failed:  # a strict tracker's failure already failed the run: do not raise again
            return
        with self._remote():
            mlflow = self.flush(run)
            mlflow.set_tags(redact({"engine.status": status,
                                    "engine.stop_reason": run.stop_reason[:_MAX_TAG_LENGTH],
                                    "engine.steps": str(run.step)}))
            try:  # a model that cannot be logged or registered still leaves a finished run behind
                if self.options.log_artifacts or self.options.register:
                    logged = self._log_model(run, mlflow)
                    if logged and self.options.register and status in (RunStatus.COMPLETED, RunStatus.STOPPED):
                        self._register(run, mlflow, logged)
            finally:
                if self.options.log_artifacts:
                    mlflow.upload(run.dir / RunFiles.SUMMARY)
                mlflow.finish(status)

    # ------------------------------------------------------------------ the model

    def _log_model(self, run: Run, mlflow: MlflowRun) -> str:
        """Upload the model (best if there is one, else final) as ``model``: an MLflow model
        of its library's flavour, or its plain files for a backend without one (then every
        exported file). With a flavour, the exported files also go under ``exports``.
        Returns the tag of the model logged ("" when the run exported none)."""
        tag = "best" if "best" in run.exports else "final" if "final" in run.exports else ""
        if not tag:
            return ""
        exported = Path(run.exports[tag])
        flavour = flavours.flavour_of(run.spec.backend.name, exported)
        if flavour is None:
            for path in run.exports.values():
                mlflow.upload(Path(path), "model")
            return tag
        with tempfile.TemporaryDirectory(prefix="engine-mlflow-") as folder:
            model = Path(folder) / "model"
            flavours.save(flavour, exported, model, flavours.input_example(run.backend))
            mlflow.upload(model, "model")
        for path in run.exports.values():
            mlflow.upload(Path(path), "exports")
        mlflow.set_tags({"engine.model": tag, "engine.model_flavour": flavour.module})
        return tag

    def _register(self, run: Run, mlflow: MlflowRun, tag: str) -> None:
        spec = run.spec
        monitor = spec.checkpoint_monitor
        mode = spec.checkpoint.mode if spec.checkpoint.monitor else spec.early_stop.mode if spec.early_stop else "auto"
        value: float | None = None
        if monitor:
            value = float(run.best["value"]) if run.best.get("metric") == monitor else run.metrics.get(monitor)
        candidate = registry.Candidate(
            source=f"{mlflow.artifact_uri}/model", run_id=mlflow.run_id,
            tags={"engine.run_name": spec.run.name, "engine.spec_hash": spec_hash(run),
                  "engine.model": tag, "engine.run_dir": str(run.dir.resolve())},
            metric=monitor, value=value, mode=resolve_mode(mode, monitor) if monitor else "min")
        version, outcome = registry.register(mlflow.client, self.options.register, candidate,
                                             alias=self.options.alias, register_if=self.options.register_if)
        tags = {"engine.registered": outcome}
        if version is not None:
            tags["engine.model_version"] = version
        mlflow.set_tags(tags)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.mlflow.run_id if self.mlflow else self.run_id,
                "pending": [list(point) for point in self.pending]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = str(state.get("run_id", ""))
        self.pending = [(str(k), float(v), int(t), int(s)) for k, v, t, s in state.get("pending", [])]

    # ------------------------------------------------------------------ writing

    def uri(self, run: Run) -> str:
        # cross-validation folds share one store next to them
        return tracking_uri(self.options.tracking_uri, run.dir.parent if run.fold else run.dir)

    def flush(self, run: Run) -> MlflowRun:
        """Send the buffered points (creating the MLflow run first if there is none)."""
        with self._remote():
            mlflow = self.mlflow or self._start(run)
            pending, self.pending = self.pending, []
            if pending:
                mlflow.log_metrics(pending)
        self.last_flush = time.monotonic()
        return mlflow

    def _start(self, run: Run) -> MlflowRun:
        spec = run.spec
        name = self.options.run_name or spec.run.name + (f"-fold{run.fold[0]}" if run.fold else "")
        mlflow = MlflowRun.create(self.uri(run), self.options.experiment or spec.run.name, name,
                                  redact({**_engine_tags(run), **self.options.tags}))
        self.mlflow = mlflow
        if self.options.log_params:
            mlflow.log_params(flat_params(spec.raw, max_value_length=MAX_PARAM_LENGTH))
        if self.options.log_artifacts:
            mlflow.upload(run.dir / RunFiles.SPEC)
            mlflow.upload(run.dir / RunFiles.ENV)
        return mlflow

    @contextlib.contextmanager
    def _remote(self) -> Iterator[None]:
        """Remember a failure talking to MLflow: a strict tracker fails the run once, not again at its end."""
        try:
            yield
        except Exception:
            self.failed = True
            raise

    def _unsent(self, points: list[Point]) -> list[Point]:
        """``points`` without those at a step the MLflow run already holds for their metric."""
        last = self.last_steps
        return [point for point in points if point[3] > last.get(point[0], -1)]


def spec_hash(run: Run) -> str:
    """SHA-256 of the run directory's ``spec.toml``: the effective spec as it ran, secrets redacted."""
    return hashlib.sha256((run.dir / RunFiles.SPEC).read_bytes()).hexdigest()


def _engine_tags(run: Run) -> dict[str, str]:
    tags = {"engine.run_name": run.spec.run.name, "engine.run_dir": str(run.dir.resolve()),
            "engine.backend": run.spec.backend.name, "engine.version": engine_version}
    if run.spec.run.description:
        tags["mlflow.note.content"] = run.spec.run.description
    if run.fold:
        tags["engine.fold"] = f"{run.fold[0]}/{run.fold[1]}"
    return tags
