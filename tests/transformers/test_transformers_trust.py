"""A checkpoint's own code runs only with trust_remote_code = true; data may come from an fsspec URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hf_helpers import base_spec, copy_task, engine, make_task, summary, write_spec

CUSTOM_CODE = '''
import os
from pathlib import Path

Path(os.environ["CUSTOM_CODE_RAN"]).write_text("ran")
from transformers import BertForSequenceClassification as Model  # noqa: E402
'''


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task(tmp_path_factory.mktemp("task"))


def short_spec(**backend: object) -> dict:
    spec = base_spec(**backend)
    spec["loop"] = {"max_steps": 4, "eval_every": "never"}
    spec.pop("checkpoint")
    return spec


@pytest.mark.parametrize("trust", [False, True])
def test_the_checkpoints_own_code_runs_only_when_trusted(task: Path, tmp_path: Path, trust: bool) -> None:
    folder = copy_task(task, tmp_path)
    config = json.loads((folder / "ckpt" / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "custom.Model", "AutoConfig": "custom.Config"}
    (folder / "ckpt" / "config.json").write_text(json.dumps(config))
    (folder / "ckpt" / "custom.py").write_text(CUSTOM_CODE + "from transformers import BertConfig as Config\n")
    spec = short_spec()
    spec["backend"]["model"]["trust_remote_code"] = trust
    write_spec(folder, spec)
    marker = tmp_path / "ran.txt"
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder, env={"CUSTOM_CODE_RAN": str(marker)})
    assert result.returncode == 0, result.stderr
    assert marker.exists() is trust


def test_text_files_by_fsspec_url(task: Path, tmp_path: Path) -> None:
    folder = copy_task(task, tmp_path)
    data = {"train": (folder / "train.csv").as_uri(), "val": (folder / "val.csv").as_uri()}
    write_spec(folder, short_spec(data=data))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert summary(folder / "run")["steps"] == 4


def test_tokens_are_cached_once_and_reused(task: Path, tmp_path: Path) -> None:
    """The tokenised tables are written to cache_dir by the first run and reused by the next."""
    folder = copy_task(task, tmp_path)
    spec = short_spec()
    spec["backend"]["data"]["cache_dir"] = "tokens"
    write_spec(folder, spec)

    def cached() -> dict[str, int]:
        return {str(p): p.stat().st_mtime_ns for p in (folder / "tokens").rglob("cache-*.arrow")}

    assert engine("run", "spec.toml", "--run-dir", "first", "-q", cwd=folder).returncode == 0
    first = cached()
    assert len(first) == 2  # train and val
    assert engine("run", "spec.toml", "--run-dir", "second", "-q", cwd=folder).returncode == 0
    assert cached() == first
