"""A private PostgreSQL cluster on 127.0.0.1 for the tests: initdb, pg_ctl start, createdb, stop."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

INSTALL_HINT = "apt-get update && apt-get install -y postgresql"


def find_bin_dir() -> Path | None:
    """Debian's /usr/lib/postgresql/<version>/bin (newest), or initdb on the PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Start a throwaway cluster and yield a SQLAlchemy URL to a fresh database in it."""
    # PostgreSQL refuses to run as root: as root, run the server as the package's "postgres" user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="engine-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if as_user:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, text=True, timeout=120)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "engine", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=50"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "engine", "tune")
        yield f"postgresql+psycopg2://engine@127.0.0.1:{port}/tune"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def tune_spec(*, name: str = "study", trials: int = 8, max_steps: int = 60, pruner: str = "median",
                 step_seconds: float = 0.0, extra_tune: str = "", space: str | None = None,
              sampler_options: str = "{ seed = 1 }") -> str:
    """A [tune] spec on the core's pure-Python testing backend."""
    space = space if space is not None else (
        '"backend.lr" = { float = [1e-3, 0.5], log = true }\n'
        '"backend.batch_size" = { int = [4, 16], step = 4 }\n'
        '"backend.noise" = { categorical = [0.0, 0.1, 0.5] }\n'
    )
    return f"""
[run]
name = "{name}"
seed = 0

[loop]
max_steps = {max_steps}
eval_every = "5 steps"
log_every = "5 steps"

[backend]
use = "testing"
dim = 4
step_seconds = {step_seconds}

[tune]
n_trials = {trials}
metric = "val/loss"
direction = "minimize"
pruner = "{pruner}"
{'pruner_options = { n_startup_trials = 2 }' if pruner == "median" else ''}
sampler_options = {sampler_options}
{extra_tune}

[tune.space]
{space}
"""


def read_trials_csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open() as handle:
        return list(csv.DictReader(handle))


class StudyStorage(NamedTuple):
    """A study's storage URL and name, and the ``engine tune`` flags that select them."""

    url: str
    name: str
    flags: list[str]


#: A local plugin that records, in each trial's run directory, the variables its process sees.
_ENVSPY = '''
import json
import os


def on_run_start(run):
    seen = {{name: os.environ.get(name) for name in {names!r}}}
    seen["pid"] = os.getpid()
    (run.dir / "envspy.json").write_text(json.dumps(seen))
'''


def envspy_spec(tmp_path: Path, names: tuple[str, ...], extra_tune: str) -> None:
    """``spec.toml``: 4 trials of about a second each (both workers are up before the study's
    trials are all taken), with a local plugin recording ``names`` as each trial's process sees them."""
    (tmp_path / "envspy.py").write_text(_ENVSPY.format(names=names))
    text = tune_spec(trials=4, max_steps=20, step_seconds=0.075, pruner="none",
                     extra_tune=f'sampler = "random"\n{extra_tune}')
    (tmp_path / "spec.toml").write_text(text.replace("seed = 0\n", 'seed = 0\nplugins = ["envspy"]\n', 1))


def envspy_records(tmp_path: Path) -> dict[int, list[dict[str, str | None]]]:
    """What each worker process (by id) saw, a record per trial it ran (the 4 of :func:`envspy_spec`)."""
    import json

    trials = sorted((tmp_path / "runs" / "study" / "trials").iterdir())
    assert len(trials) == 4, trials
    seen: dict[int, list[dict[str, str | None]]] = {}
    for trial in trials:
        record = json.loads((trial / "envspy.json").read_text())
        seen.setdefault(record.pop("pid"), []).append(record)
    return seen
