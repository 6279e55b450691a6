"""Helpers for testing tabular backends (used by tests/xgboost, tests/lightgbm, tests/sklearn):
breast-cancer CSV files, the spec the resume tests kill, changed copies of a CSV, and the
one-line refusals of ``engine check`` and ``engine run``.

The general kit is :mod:`engine.testing`: ``cli`` runs the command line (in a subprocess or in
this process), ``kill_and_resume`` compares a run killed and resumed with one that never stopped.
Nothing here imports pytest; scikit-learn is needed only by :func:`write_breast_cancer`, pandas
by :func:`changed_csv`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.session import dump_toml
from engine.testing import cli


def write_breast_cancer(directory: Path, *, valid_rows: int = 114) -> tuple[Path, Path]:
    """``train.csv`` and ``valid.csv`` (label column ``label``) from scikit-learn's bundled data."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, valid = directory / "train.csv", directory / "valid.csv"
    frame.iloc[valid_rows:].to_csv(train, index=False)
    frame.iloc[:valid_rows].to_csv(valid, index=False)
    return train, valid


def write_breast_cancer_splits(directory: Path, rows: int = 114) -> tuple[Path, Path, Path]:
    """``train.csv``, ``valid.csv`` and ``test.csv`` (label column ``label``): ``rows`` rows
    each for validation and test, the rest for training."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "label"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    paths = directory / "train.csv", directory / "valid.csv", directory / "test.csv"
    frame.iloc[2 * rows:].to_csv(paths[0], index=False)
    frame.iloc[:rows].to_csv(paths[1], index=False)
    frame.iloc[rows:2 * rows].to_csv(paths[2], index=False)
    return paths


#: A custom metric module for the tests: ``my_metrics:positive_share`` is the share of rows
#: predicted positive (it takes ``(y_true, scores)`` like any custom metric).
CUSTOM_METRIC = "def positive_share(y_true, scores):\n    return float((scores > 0.5).mean())\n"


def reported(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run directory's ``summary.json`` and its ``metrics.jsonl`` records (none in a
    cross-validation's folder, whose folds have them)."""
    import json

    summary = json.loads((directory / "summary.json").read_text())
    log = directory / "metrics.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    records = [json.loads(line) for line in lines if line.strip()]
    return summary, records


def classifier_metrics(y_true: Any, probability: Any) -> dict[str, float]:
    """What ``metrics = ["f1", "roc_auc", "accuracy", "log_loss", "rmse"]`` and ``my_metrics:positive_share``
    should report for a binary classifier's positive-class ``probability``, from scikit-learn."""
    import numpy as np
    from sklearn import metrics

    predicted = (np.asarray(probability) > 0.5).astype(int)
    return {"f1": metrics.f1_score(y_true, predicted), "roc_auc": metrics.roc_auc_score(y_true, probability),
            "accuracy": metrics.accuracy_score(y_true, predicted),
            "log_loss": metrics.log_loss(y_true, probability, labels=[0, 1]),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, probability))),
            "positive_share": float(predicted.mean())}


def resume_spec(backend: str, train: Path, valid: Path, params: dict[str, Any], **options: Any) -> dict[str, Any]:
    """100 rounds, evaluated every 10 and checkpointed every 20: the spec the resume tests kill."""
    return {
        "run": {"seed": 3},
        "loop": {"max_steps": 100, "eval_every": "10 steps", "checkpoint_every": "20 steps"},
        "checkpoint": {"storage_options": {"fsync": False}},  # a kill, not a power loss, is tested
        "backend": {"use": backend, "params": params, **options,
                    "data": {"train": str(train), "valid": str(valid)}},
    }


def refused_by_check_and_run(spec: dict[str, Any], cwd: Path, words: Sequence[str]) -> None:
    """``engine check`` and ``engine run`` of ``spec`` (written to ``cwd/spec.toml``) each exit 2 with
    one ``engine: error:`` line that holds every one of ``words``, no traceback, and write nothing."""
    (cwd / "spec.toml").write_text(dump_toml(spec))
    for command in ("check", "run"):
        result = cli(command, "spec.toml", cwd=cwd, in_process=True)
        assert result.code == 2 and len(result.error_lines) == 1 and "Traceback" not in result.err, result
        for word in words:
            assert word in result.error_lines[0], result.error_lines[0]
        assert sorted(p.name for p in cwd.iterdir()) == ["spec.toml"], f"{command} wrote files"


def passed_by_check_and_run(spec: dict[str, Any], cwd: Path) -> None:
    """``engine check`` of ``spec`` (written to ``cwd/spec.toml``) and then ``engine run -q`` both exit 0."""
    (cwd / "spec.toml").write_text(dump_toml(spec))
    for args in (["check", "spec.toml"], ["run", "spec.toml", "-q"]):
        result = cli(*args, cwd=cwd, in_process=True)
        assert result.code == 0, result


def refused_run_line(spec: dict[str, Any], cwd: Path) -> str:
    """The one line on stderr of ``engine run`` of ``spec`` (written to ``cwd/spec.toml``) that must
    exit 2 without a traceback, before its run directory ``cwd/run`` exists."""
    (cwd / "spec.toml").write_text(dump_toml(spec))
    result = cli("run", "spec.toml", "--run-dir", str(cwd / "run"), cwd=cwd, in_process=True)
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1 and "Traceback" not in result.err, result
    assert not (cwd / "run").exists()  # a run that never started leaves nothing behind
    return lines[0]


def changed_csv(csv: Path, directory: Path, name: str, change: Callable[[Any], object]) -> str:
    """A copy of ``csv`` changed by ``change(frame)`` (a pandas DataFrame), written to
    ``directory / name``; returns ``name``."""
    import pandas as pd

    frame = pd.read_csv(csv)
    change(frame)
    frame.to_csv(directory / name, index=False)
    return name
