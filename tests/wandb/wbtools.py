"""Reading back what W&B wrote, the way ``wandb sync`` reads it: the records of each run
segment's ``run-<id>.wandb`` transaction log (wandb ships no Python reader of its own; the
plugin's :mod:`engine_wandb.transaction_log` decodes the format), plus process checks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine_wandb.transaction_log import HEADER, records


def _key(item: Any) -> str:
    return "/".join(item.nested_key) if item.nested_key else item.key


class WandbRun:
    """What one offline W&B run directory (``offline-run-<time>-<id>``) holds."""

    def __init__(self, folder: Path):
        self.folder = folder
        found = sorted(folder.glob("run-*.wandb"))
        assert len(found) == 1, found
        assert found[0].read_bytes().startswith(HEADER)
        self.file = found[0]
        self.records = list(records(found[0]))

    def of(self, kind: str) -> list[Any]:
        return [getattr(r, kind) for r in self.records if r.WhichOneof("record_type") == kind]

    @property
    def run(self) -> Any:
        return self.of("run")[0]

    @property
    def run_id(self) -> str:
        """The id in the file's name (a killed process may have written no record at all)."""
        return self.file.stem.removeprefix("run-")

    @property
    def config(self) -> dict[str, Any]:
        """The config as W&B holds it: the run record's, then each config update."""
        out: dict[str, Any] = {}
        for update in [self.run.config, *self.of("config")]:
            for item in update.update:
                out[_key(item)] = json.loads(item.value_json)
            for item in update.remove:
                out.pop(_key(item), None)
        out.pop("_wandb", None)
        return out

    def history(self, key: str) -> list[tuple[int, float]]:
        """``(step, value)`` of every point of ``key`` logged (duplicates kept)."""
        out = []
        for history in self.of("history"):
            for item in history.item:
                if _key(item) == key:
                    out.append((int(history.step.num), json.loads(item.value_json)))
        return out

    def history_keys(self) -> set[str]:
        keys = {_key(item) for history in self.of("history") for item in history.item}
        return keys - {"_step", "_runtime", "_timestamp"}

    @property
    def summary(self) -> dict[str, Any]:
        """The summary values set explicitly (summary records), last write wins."""
        out: dict[str, Any] = {}
        for summary in self.of("summary"):
            for item in summary.update:
                out[_key(item)] = json.loads(item.value_json)
        return out

    @property
    def exit_code(self) -> int | None:
        exits = self.of("exit")
        return int(exits[-1].exit_code) if exits else None

    def artifacts(self) -> list[Any]:
        return self.of("artifact")


def offline_runs(root: Path) -> list[WandbRun]:
    """Every offline run under ``root`` (a ``dir`` given to W&B), oldest first."""
    return [WandbRun(folder) for folder in sorted(root.glob("**/offline-run-*")) if folder.is_dir()]


def wandb_services() -> dict[int, int]:
    """``{pid: parent pid it serves}`` of every W&B service process (``wandb-core --pid N``) alive."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"wandb-core") and b"--pid" in args:
            found[int(entry.name)] = int(args[args.index(b"--pid") + 1])
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
