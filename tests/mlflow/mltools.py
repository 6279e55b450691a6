"""Reading an MLflow run back the way a user would: through ``MlflowClient``."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from mlflow.entities import Run
from mlflow.tracking import MlflowClient


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runs_in(client: MlflowClient, experiment: str) -> list[Run]:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    return list(client.search_runs([found.experiment_id]))


def only_run(client: MlflowClient, experiment: str) -> Run:
    runs = runs_in(client, experiment)
    assert len(runs) == 1, [r.info.run_name for r in runs]
    return runs[0]


def history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of every point of ``key``, in step order (duplicates kept)."""
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def logged(run_dir: Path, key: str) -> list[tuple[int, float]]:
    """``(step, value)`` of ``key`` in the run directory's ``metrics.jsonl``."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r[key]) for r in records if key in r]


def artifact_paths(client: MlflowClient, run_id: str, folder: str | None = None) -> list[str]:
    out: list[str] = []
    for info in client.list_artifacts(run_id, folder):
        out.extend(artifact_paths(client, run_id, info.path) if info.is_dir else [info.path])
    return sorted(out)


def artifact_text(client: MlflowClient, run_id: str, path: str, into: Path) -> Any:
    return Path(client.download_artifacts(run_id, path, str(into))).read_text()
