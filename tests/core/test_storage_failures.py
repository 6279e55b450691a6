"""A storage that fails (a full disk, a path that cannot be written) through the CLI: every
write of a run follows ``checkpoint.on_error``, a failed write leaves no partial file, and
the exit status, the console and summary.json name only what was really written."""

from __future__ import annotations

import contextlib
import json
import shutil
import textwrap
from pathlib import Path

SPEC = """
[run]
name = "r"
dir = "{dir}"
seed = 1

[loop]
max_steps = {max_steps}
eval_every = "10 steps"
checkpoint_every = "10 steps"
log_every = "1 steps"

[backend]
use = "testing"
noise = 0.0
lr = 0.01

[checkpoint]
monitor = "val/loss"
keep_last = 3
"""

#: A test plugin: fills the disk holding the run directory after the second checkpoint is
#: committed, and frees it again at step FREE_AT (never if 0).
DISK_FILLER = '''
import os
from engine import hookimpl

FREE_AT = {free_at}
state = {{"saves": 0, "filler": None}}


def fill(path):
    with open(path, "wb", buffering=0) as handle:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    handle.write(bytes(size))
            except OSError:
                pass


@hookimpl
def on_checkpoint(run, checkpoint):
    state["saves"] += 1
    if state["saves"] == 2:
        state["filler"] = run.dir.parent / "filler"
        fill(state["filler"])


@hookimpl
def on_step(run):
    if state["filler"] is not None and run.step == FREE_AT:
        os.remove(state["filler"])
        state["filler"] = None
'''

#: A test plugin: the built-in local storage under the scheme ``flaky://``, whose saves of
#: the checkpoints named in FAIL stop half-way through a file with "no space left".
FLAKY_STORAGE = '''
import errno
from engine import hookimpl
from engine._core.checkpoint.storage import LocalStorage, LocalStorageOptions

FAIL = {fail!r}


class FlakyStorage(LocalStorage):
    def __init__(self, options):
        super().__init__(options)
        self.root = type(self.root)(options.url.removeprefix("flaky://"))

    def write(self, name, files, manifest):
        self.failing = name in FAIL
        super().write(name, files, manifest)

    def _write_file(self, path, data):
        if self.failing and path.name == "backend.json":
            super()._write_file(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device (flaky storage)")
        super()._write_file(path, data)


@hookimpl
def engine_register_components(registry):
    registry.add("storage", "flaky", FlakyStorage, options=LocalStorageOptions, schemes=("flaky",))
'''


def write_spec(tmp_path: Path, *, run_dir: str = "runs", max_steps: int = 60) -> str:
    (tmp_path / "spec.toml").write_text(SPEC.format(dir=run_dir, max_steps=max_steps))
    return "spec.toml"


def partial_files(folder: Path) -> list[str]:
    """Everything a failed write may leave: hidden partial files and folders."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".partial" in p.name)


def console_models(stderr: str) -> dict[str, str]:
    """The ``model (tag)  path`` rows of the console's final table."""
    rows = {}
    for line in stderr.splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "model":
            rows[words[1].strip("()")] = words[2]
    return rows


def test_a_disk_full_for_a_while_is_survived(cli, tmp_path, small_disk):
    (tmp_path / "diskfill.py").write_text(DISK_FILLER.format(free_at=110))
    spec = write_spec(tmp_path, run_dir="disk", max_steps=160)
    result = cli("run", spec, "--plain", "-p", "diskfill")
    assert result.code == 0, result
    assert "could not write the best model" in result.err  # an improving evaluation while full
    assert "could not write the checkpoint of step 30" in result.err
    assert "could not write to" in result.err and "metrics.jsonl" in result.err
    run_dir = small_disk / "r"
    assert partial_files(small_disk) == []
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["exit_code"] == 0 and summary["steps"] == 160
    assert summary["model"], summary
    for path in [*summary["model"].values(), *console_models(result.err).values()]:
        assert (tmp_path / path).is_file(), path
    committed = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert committed == ["step-000000140", "step-000000150", "step-000000160"]  # after the disk was freed


def test_a_disk_that_stays_full_is_reported_and_names_no_missing_file(cli, tmp_path, small_disk):
    (tmp_path / "diskfill.py").write_text(DISK_FILLER.format(free_at=0))
    spec = write_spec(tmp_path, run_dir="disk", max_steps=60)
    result = cli("run", spec, "--plain", "-p", "diskfill")
    assert result.code == 0, result  # two checkpoints were written; on_error = "warn" goes on
    assert "could not write the final model" in result.err
    assert "summary.json: OSError: [Errno 28] No space left on device" in result.err
    assert partial_files(small_disk) == []
    assert not (small_disk / "r/summary.json").exists()
    assert console_models(result.err) == {}  # the best model of step 20 was not the best any more
    assert not (small_disk / "r/model/best.json").exists()


def test_a_failed_save_removes_its_partial_folder_at_once(cli, tmp_path):
    (tmp_path / "flaky.py").write_text(FLAKY_STORAGE.format(fail=["step-000000020", "step-000000040"]))
    spec = write_spec(tmp_path, max_steps=50)
    result = cli("run", spec, "--quiet", "-p", "flaky",
                     "--set", 'checkpoint.storage="flaky://store"', "--set", "checkpoint.keep_last=10")
    assert result.code == 0, result
    assert result.err.count("could not write the checkpoint of step") == 2
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [
        "step-000000010", "step-000000030", "step-000000050"]  # nothing hidden left behind


def test_a_failed_best_export_follows_on_error(cli, tmp_path):
    (tmp_path / "blockmodel.py").write_text(textwrap.dedent('''
        from engine import hookimpl

        @hookimpl
        def on_run_start(run):
            (run.dir / "model").write_text("a file where the model folder should be")
    '''))
    spec = write_spec(tmp_path, max_steps=30)
    warned = cli("run", spec, "--plain", "-p", "blockmodel")
    assert warned.code == 0, warned
    assert "could not write the best model (val/loss" in warned.err
    assert "could not write the final model" in warned.err
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "completed" and summary["model"] == {}
    assert console_models(warned.err) == {}

    shutil.rmtree(tmp_path / "runs")
    failed = cli("run", spec, "--quiet", "-p", "blockmodel", "--set", 'checkpoint.on_error="fail"')
    assert failed.code == 1, failed
    assert len(failed.error_lines) == 1 and "could not write the best model" in failed.err, failed
    assert "Traceback" not in failed.err
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1


def test_a_summary_that_cannot_be_written_says_why(cli, tmp_path):
    (tmp_path / "blocksummary.py").write_text(textwrap.dedent('''
        from engine import hookimpl

        @hookimpl
        def on_run_start(run):
            (run.dir / "summary.json").mkdir()
    '''))
    spec = write_spec(tmp_path, max_steps=20)
    result = cli("run", spec, "--quiet", "-p", "blocksummary")
    assert result.code == 0, result
    assert "could not write runs/r/summary.json: IsADirectoryError" in result.err
    assert partial_files(tmp_path / "runs") == []


def test_a_cross_validation_summary_that_cannot_be_written_follows_on_error(cli, tmp_path):
    (tmp_path / "blockcvsummary.py").write_text(textwrap.dedent('''
        from engine import hookimpl

        @hookimpl
        def on_run_start(run):
            (run.dir.parent / "summary.json").mkdir(exist_ok=True)
    '''))
    spec = write_spec(tmp_path, max_steps=8)
    with (tmp_path / spec).open("a") as text:
        text.write("\n[cv]\nfolds = 2\n")
    for policy, code in (("warn", 0), ("fail", 1)):
        shutil.rmtree(tmp_path / "runs", ignore_errors=True)
        result = cli("run", spec, "--quiet", "-p", "blockcvsummary", "--set", f'checkpoint.on_error="{policy}"')
        assert result.code == code, result
        assert "could not write runs/r/summary.json: IsADirectoryError" in result.err, result
        assert "Traceback" not in result.err
        assert all((tmp_path / f"runs/r/fold-{k}/summary.json").is_file() for k in range(2))
        assert partial_files(tmp_path / "runs") == []


def test_a_run_whose_every_save_failed_exits_1(cli, tmp_path):
    spec = write_spec(tmp_path, max_steps=20)
    result = cli("run", spec, "--quiet", "--set", 'checkpoint.storage="/proc/nope"')
    assert result.code == 1, result
    assert result.err.count("could not write the checkpoint of step") == 2
    assert len(result.error_lines) == 1, result
    assert "no checkpoint was written: every save to /proc/nope failed" in result.error_lines[0]
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["exit_code"] == 1
    assert summary["steps"] == 20  # training itself ran to the end


def test_check_refuses_a_storage_that_cannot_be_written_and_writes_nothing(cli, tmp_path):
    spec = write_spec(tmp_path)
    refused = cli("check", spec, "--set", 'checkpoint.storage="/proc/nope"')
    assert refused.code == 2, refused
    assert refused.error_lines == [
        "engine: error: checkpoint.storage: cannot write checkpoints to /proc/nope: FileNotFoundError: "
        "[Errno 2] No such file or directory: '/proc/nope' — choose a storage this user can write, "
        "or free space on it"]
    accepted = cli("check", spec)
    assert accepted.code == 0, accepted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]  # the probe left no folder


def test_a_run_directory_on_a_full_disk_is_one_line_and_leaves_nothing(cli, tmp_path, small_disk):
    with contextlib.suppress(OSError), (small_disk / "filler").open("wb", buffering=0) as filler:
        while True:  # fill the disk to its last byte
            filler.write(b"\0" * 4096)
    spec = write_spec(tmp_path, run_dir="disk")
    for resume in ([], ["--resume"]):
        result = cli("run", spec, "--quiet", *resume)
        assert result.code == 2, result
        assert result.error_lines == [
            "engine: error: run.dir: cannot write the run directory 'disk/r': No space left on device "
            "— free space on it, or choose another run.dir or --run-dir"], result
        assert "Traceback" not in result.err
        assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
