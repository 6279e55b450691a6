"""A failing fsspec storage through the CLI: a failed save removes the parts it stored, and
``engine check`` tries the storage, leaving nothing there."""

from __future__ import annotations

from fsspec_helpers import spec_text

FAILING_COMMIT = """
import errno
from fsspec.implementations.local import LocalFileSystem

from engine._core.checkpoint.manifest import MANIFEST

stored = LocalFileSystem.pipe_file


def pipe_file(self, path, value, *args, **kwargs):
    if "step-000000007" in str(path) and str(path).endswith(MANIFEST):  # every part is stored by now
        raise OSError(errno.ENOSPC, "No space left on device")
    return stored(self, path, value, *args, **kwargs)


LocalFileSystem.pipe_file = pipe_file
"""


def test_a_failed_save_removes_the_parts_it_stored(cli, tmp_path):
    store = tmp_path / "store"
    (tmp_path / "failcommit.py").write_text(FAILING_COMMIT)
    (tmp_path / "spec.toml").write_text(spec_text(f"local://{store}", max_steps=21, every=7))
    result = cli("run", "spec.toml", "--quiet", "-p", "failcommit")
    assert result.code == 0, result
    assert result.err.count("could not write the checkpoint of step 7") == 1, result
    assert sorted(p.name for p in store.iterdir()) == ["step-000000014", "step-000000021"]


def test_check_refuses_a_storage_that_cannot_be_written_and_leaves_nothing(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(spec_text("local:///proc/nope"))
    refused = cli("check", "spec.toml")
    assert refused.code == 2, refused
    assert len(refused.error_lines) == 1, refused
    assert "cannot write checkpoints to local:///proc/nope: FileNotFoundError" in refused.err
    assert "Traceback" not in refused.err
    (tmp_path / "spec.toml").write_text(spec_text(f"local://{tmp_path}/new/store"))
    accepted = cli("check", "spec.toml")
    assert accepted.code == 0, accepted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]
