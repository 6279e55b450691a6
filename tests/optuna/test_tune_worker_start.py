"""The workers ``--workers N`` starts: they start with the command and wait for its orders, so a
spec the command refuses is reported once, and the storage URL never reaches a command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv, tune_spec

ARGV_SPY = '''
import json
import os
import sys


def on_run_start(run):
    (run.dir / "argv.json").write_text(json.dumps({"argv": sys.argv, "pid": os.getpid()}))
'''


@pytest.mark.parametrize("mistake, where", [
    ("loop.max_stepz=20", "loop.max_stepz"),  # structuring refuses it (the workers refuse it too)
    ("tune.metric=val/nope", "val/nope"),  # only the check finds it, after the workers started
])
def test_a_refused_spec_is_one_line_with_several_workers(cli, tmp_path: Path, mistake: str, where: str) -> None:
    (tmp_path / "spec.toml").write_text(tune_spec(trials=4, max_steps=10, pruner="none"))
    result = cli("tune", "spec.toml", "--workers", "3", "--set", mistake)
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and where in result.error_lines[0], result
    assert "Traceback" not in result.err
    assert not (tmp_path / "runs").exists()  # no study, no trial


def test_the_storage_url_reaches_no_worker_command_line(cli, tmp_path: Path, postgres_url: str) -> None:
    """A password in ``tune.storage`` stays in the spec: the workers the command starts get the
    URL on a pipe, not as ``--storage`` on a command line that any user can list."""
    secret_url = postgres_url.replace("engine@", "engine:hunter2-secret@")  # the test server trusts any password
    (tmp_path / "argvspy.py").write_text(ARGV_SPY)
    text = tune_spec(trials=4, max_steps=20, step_seconds=0.075, pruner="none",
                     extra_tune=f'sampler = "random"\nstorage = "{secret_url}"\nstudy = "argv"')
    (tmp_path / "spec.toml").write_text(text.replace("seed = 0\n", 'seed = 0\nplugins = ["argvspy"]\n', 1))
    result = cli("tune", "spec.toml", "--workers", "2", timeout=300)
    assert result.code == 0, result
    assert "hunter2-secret" not in result.out + result.err
    seen = [json.loads(path.read_text()) for path in (tmp_path / "runs" / "study" / "trials").glob("*/argv.json")]
    assert len({record["pid"] for record in seen}) == 2, seen  # both workers ran trials
    for record in seen:
        assert not any("hunter2-secret" in arg for arg in record["argv"]), record["argv"]
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert [row["state"] for row in rows] == ["COMPLETE"] * 4


def test_tune_called_in_process_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """A tuning worker freezes what its libraries made while it runs; a test (or a tool) that
    calls the command in its own process gets every object collectable again afterwards."""
    import gc

    from engine.testing import cli as engine_cli

    (tmp_path / "spec.toml").write_text(tune_spec(trials=2, max_steps=10, pruner="none"))
    before = gc.get_freeze_count()
    result = engine_cli("tune", "spec.toml", cwd=tmp_path, in_process=True)
    assert result.code == 0, result
    assert gc.get_freeze_count() == before
