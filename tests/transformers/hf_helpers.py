"""A tiny checkpoint, text files and specs for the transformers backend's tests; nothing is downloaded.

Every subprocess runs with the Hugging Face libraries offline (``HF_HUB_OFFLINE``,
``TRANSFORMERS_OFFLINE``, ``HF_DATASETS_OFFLINE``) and their caches in the test's folder.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine_transformers import make_tiny_checkpoint, synthetic_sentiment

from engine._core.spec.toml_text import dump_toml

#: Rows of the generated task: training, validation.
TRAIN_ROWS, VAL_ROWS = 512, 64


def offline_env(home: Path) -> dict[str, str]:
    """The Hugging Face libraries offline, their caches (hub, datasets) under ``home``."""
    return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "HF_HOME": str(home), "OMP_NUM_THREADS": "1"}


def make_task(folder: Path) -> Path:
    """``folder`` with ``ckpt/`` (a tiny BERT and its tokenizer) and ``train.csv``, ``val.csv``."""
    rows = synthetic_sentiment(TRAIN_ROWS + VAL_ROWS, seed=1)
    make_tiny_checkpoint(folder / "ckpt", [text for text, _ in rows], num_labels=2)
    write_csv(folder / "train.csv", rows[:TRAIN_ROWS])
    write_csv(folder / "val.csv", rows[TRAIN_ROWS:])
    return folder


def write_csv(path: Path, rows: list[tuple[str, int]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def read_rows(path: Path) -> list[tuple[str, int]]:
    with path.open(encoding="utf-8") as handle:
        return [(row["text"], int(row["label"])) for row in csv.DictReader(handle)]


def base_spec(**backend: Any) -> dict[str, Any]:
    """Three epochs of 32 steps (batch 16) on the tiny task, checkpoints every 6 steps."""
    spec: dict[str, Any] = {
        "run": {"name": "tiny", "seed": 5},
        "loop": {"max_epochs": 3, "eval_every": "1 epoch", "log_every": "4 steps", "checkpoint_every": "6 steps"},
        "backend": {
            "use": "transformers",
            "model": {"hf": "AutoModelForSequenceClassification", "pretrained": "ckpt", "num_labels": 2},
            "data": {"train": "train.csv", "val": "val.csv"},
            "batch_size": 16, "optimizer": {"use": "adamw", "lr": 0.001}, "metrics": ["accuracy", "f1"],
            "device": "cpu", "threads": 1,
        },
        "checkpoint": {"monitor": "val/accuracy"},
    }
    spec["backend"].update(backend)
    return spec


def write_spec(folder: Path, spec: dict[str, Any], name: str = "spec.toml") -> Path:
    path = folder / name
    path.write_text(dump_toml(copy.deepcopy(spec)), encoding="utf-8")
    return path


def engine(*args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m engine ARGS`` in ``cwd``, offline."""
    environment = {**os.environ, **offline_env(cwd / ".hf"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


def summary(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "summary.json").read_text()))


def copy_task(task: Path, folder: Path) -> Path:
    """``folder`` with the task's checkpoint and text files (a fresh working folder for one test)."""
    import shutil

    for name in ("ckpt", "train.csv", "val.csv"):
        source = task / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        else:
            shutil.copy(source, folder / name)
    return folder


def checkpoint_model_tensors(checkpoint: Path) -> dict[str, Any]:
    """The model tensors a checkpoint directory holds (the backend's ``model`` part)."""
    import safetensors.torch

    part = json.loads((checkpoint / "backend.json").read_text())["model"]["__bytes__"]
    return dict(safetensors.torch.load_file(str(checkpoint / part)))


def comparable(metrics: dict[str, float]) -> dict[str, float]:
    """Metrics without the timing and memory ones (``sys/...``), which differ from run to run."""
    return {key: value for key, value in metrics.items() if not key.startswith("sys/")}
