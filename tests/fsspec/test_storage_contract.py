"""What every storage must do, checked on memory://, local:// and a real S3 server (and the
core's local storage, as the model): a checkpoint is visible only once committed, retention
and resume see only committed ones, and URLs stay URLs."""

from __future__ import annotations

import pytest
from engine_fsspec.options import FsspecStorageOptions
from engine_fsspec.storage import FsspecStorage, StorageError

from engine._core.checkpoint.manager import CheckpointManager
from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions


class Participant:
    def __init__(self, value: int = 0):
        self.value = value

    def state_dict(self) -> dict:
        return {"value": self.value, "blob": bytes([self.value % 256]) * 1000}

    def load_state_dict(self, state: dict) -> None:
        self.value = state["value"]
        assert state["blob"] == bytes([self.value % 256]) * 1000


@pytest.fixture(params=["memory", "local", "s3", "core-local"])
def storage(request, tmp_path):
    kind = request.param
    if kind == "core-local":
        return LocalStorage(LocalStorageOptions(url=str(tmp_path / "ck")))
    if kind == "memory":
        url = f"memory://contract-{tmp_path.name}/runs/r"
        return FsspecStorage(FsspecStorageOptions(url=url))
    if kind == "local":
        return FsspecStorage(FsspecStorageOptions(url=f"local://{tmp_path}/ck"))
    s3 = request.getfixturevalue("s3")
    bucket = request.getfixturevalue("bucket")
    return FsspecStorage(FsspecStorageOptions(url=f"s3://{bucket}/runs/r",
                                              filesystem=s3.filesystem_options()))


def save(manager: CheckpointManager, step: int, **metrics: float) -> None:
    manager.save({"p": Participant(step)}, step=step, epoch=0, metrics=dict(metrics))


def test_empty_storage_has_no_checkpoints(storage):
    assert storage.list() == []
    assert CheckpointManager(storage).committed() == []


def test_saved_checkpoints_are_listed_with_urls_that_stay_urls(storage):
    manager = CheckpointManager(storage)
    for step in (3, 6):
        save(manager, step, loss=1.0 / step)
    infos = manager.committed()
    assert [i.step for i in infos] == [3, 6]
    assert infos[1].metrics == {"loss": 1.0 / 6}
    for info in infos:
        assert info.url == f"{storage.url}/{info.name}"
        if "://" in storage.url:
            scheme = storage.url.split("://")[0]
            assert info.url.startswith(f"{scheme}://") and f"{scheme}:/" + "/" in info.url


def test_an_uncommitted_checkpoint_is_never_trusted(storage):
    manager = CheckpointManager(storage)
    save(manager, 3)
    files = manager.snapshot({"p": Participant(9)})
    # parts written, manifest never: what a crash between the two leaves behind
    if isinstance(storage, FsspecStorage):
        for file, data in files.items():
            storage.fs.pipe_file(f"{storage.root}/step-000000009/{file}", data)
    else:
        folder = storage.root / "step-000000009"
        folder.mkdir()
        for file, data in files.items():
            (folder / file).write_bytes(data)
    warnings: list[str] = []
    manager.warn = warnings.append
    assert [i.step for i in manager.committed()] == [3]
    assert "step-000000009 has no manifest" in warnings[0]
    restored = Participant()
    assert manager.load_latest({"p": restored}).step == 3 and restored.value == 3
    assert manager.retain(keep_last=1) == []  # nothing uncommitted is deleted, nothing else to delete
    assert "step-000000009" in storage.list()


def test_rewriting_a_checkpoint_replaces_it_whole(storage):
    manager = CheckpointManager(storage)
    save(manager, 5)
    manager.save({"p": Participant(77)}, step=5, epoch=1, metrics={})
    restored = Participant()
    info = manager.load_latest({"p": restored})
    assert (info.epoch, restored.value) == (1, 77)


def test_retention_deletes_only_committed_checkpoints_and_never_the_resumed_one(storage):
    manager = CheckpointManager(storage)
    for step in range(1, 6):
        save(manager, step, loss=float(step))
    resumed = CheckpointManager(storage)
    resumed.committed()
    storage.delete("step-000000005")  # suppose the newest was lost: resume takes step 4
    assert resumed.load_latest({"p": Participant()}).step == 4
    for step in (6, 7, 8):
        save(resumed, step, loss=float(step))
    deleted = resumed.retain(keep_last=2, save_top_k=1, monitor="loss", mode="min")
    assert deleted == ["step-000000002", "step-000000003", "step-000000006"]
    assert [i.step for i in resumed.committed()] == [1, 4, 7, 8]


def test_a_changed_file_fails_its_checksum_and_the_previous_checkpoint_is_used(storage):
    manager = CheckpointManager(storage)
    save(manager, 1)
    save(manager, 2)
    data = storage.read("step-000000002", "p.0.bin")
    if isinstance(storage, FsspecStorage):
        storage.fs.pipe_file(f"{storage.root}/step-000000002/p.0.bin", data[:-1])
    else:
        (storage.root / "step-000000002/p.0.bin").write_bytes(data[:-1])
    warnings: list[str] = []
    manager.warn = warnings.append
    assert manager.load_latest({"p": Participant()}).step == 1
    assert "step-000000002 is damaged" in warnings[0] and "bytes" in warnings[0]


def test_reading_a_missing_file_is_file_not_found(storage):
    save(CheckpointManager(storage), 1)
    with pytest.raises(FileNotFoundError):
        storage.read("step-000000001", "nope.json")
    with pytest.raises(FileNotFoundError):
        storage.read("step-000000099", "MANIFEST.json")


def test_an_unreachable_s3_endpoint_gives_up_with_one_clear_error(tmp_path):
    from engine_fsspec.testing import free_port

    storage = FsspecStorage(FsspecStorageOptions(
        url="s3://nobody/runs", attempts=2, backoff=0.05,
        filesystem={"endpoint_url": f"http://127.0.0.1:{free_port()}",
                    "config_kwargs": {"retries": {"max_attempts": 1}}}))
    with pytest.raises(StorageError) as caught:
        CheckpointManager(storage).save({"p": Participant(1)}, step=1, epoch=0, metrics={})
    message = str(caught.value)
    assert "s3://nobody/runs/step-000000001" in message and "gave up after 2 tries" in message
    assert "EndpointConnectionError" in message
