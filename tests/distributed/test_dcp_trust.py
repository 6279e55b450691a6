"""A sharded (FSDP) checkpoint's DCP files are data: a crafted ``.metadata`` pickle that names
code, a file name outside the checkpoint, or a record pointing at another file is refused as a
damaged checkpoint; nothing runs and nothing is written outside DCP's temporary folder."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from engine._core.errors import CheckpointError


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The DCP files of a small model, as the FSDP strategy stores them in a checkpoint."""
    import torch
    import torch.distributed.checkpoint as dcp

    folder = tmp_path_factory.mktemp("dcp")
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "assuming the intent is to save in a single process"
        dcp.save({"model": torch.nn.Linear(3, 2).state_dict()},
                 storage_writer=dcp.FileSystemWriter(str(folder), single_file_per_rank=True))
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def load_in_subprocess(tmp_path: Path, files: dict[str, bytes]) -> subprocess.CompletedProcess[str]:
    """``sharded_files.load`` as the FSDP strategy calls it on resume, in a fresh process."""
    (tmp_path / "files.pkl").write_bytes(pickle.dumps(files))
    script = textwrap.dedent(f"""
        import pickle, warnings, torch
        warnings.simplefilter("ignore")
        from engine._core.errors import EngineError
        from engine_distributed import sharded_files
        files = pickle.loads(open({str(tmp_path / 'files.pkl')!r}, "rb").read())
        state = {{"model": torch.nn.Linear(3, 2).state_dict()}}
        try:
            sharded_files.load(state, {{"files": files}})
        except EngineError as exc:
            print("refused:", exc)
            raise SystemExit(2)
        print("loaded:", round(float(state["model"]["weight"].sum()), 6))
    """)
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)


class RunsACommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def load(files: dict[str, bytes]) -> dict[str, object]:
    """``sharded_files.load`` as the FSDP strategy calls it on resume, into a fresh model's state."""
    import torch
    from engine_distributed import sharded_files

    state = {"model": torch.nn.Linear(3, 2).state_dict()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sharded_files.load(state, {"files": files})
    return state


def test_real_shards_load(shards: dict[str, bytes]) -> None:
    import torch

    torch.manual_seed(0)
    expected = torch.nn.Linear(3, 2).state_dict()["weight"]
    assert torch.equal(load(shards)["model"]["weight"], expected)  # type: ignore[index]


def test_metadata_naming_code_runs_nothing(tmp_path: Path, shards: dict[str, bytes]) -> None:
    files = dict(shards)
    marker = tmp_path / "pwned"
    files[".metadata"] = pickle.dumps(RunsACommand(marker))

    result = load_in_subprocess(tmp_path, files)

    assert not marker.exists()
    assert result.returncode == 2, result
    assert "damaged" in result.stdout and "posix.system" in result.stdout, result


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped-engine-dcp", ".."])
def test_a_file_name_outside_the_checkpoint_is_refused(tmp_path: Path, shards: dict[str, bytes], name: str) -> None:
    files = dict(shards)
    files[name.replace("/tmp/", f"{tmp_path}/")] = b"planted"

    with pytest.raises(CheckpointError, match="outside the checkpoint"):
        load(files)
    assert not (tmp_path / "escaped-engine-dcp").exists()


def test_metadata_pointing_at_another_file_is_refused(shards: dict[str, bytes]) -> None:
    files = dict(shards)
    metadata = pickle.loads(files[".metadata"])  # made by torch just now: trusted in this test
    for info in metadata.storage_data.values():
        info.relative_path = "../../secret"
    files[".metadata"] = pickle.dumps(metadata)

    with pytest.raises(CheckpointError, match=re.escape("'../../secret'")):
        load(files)
