"""The console: the progress bar shows the run's true step; a cross-validation ends with one
table of every metric's mean ± std over the folds."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import read_json

SLOW_STEPS = '''
import time
from engine import hookimpl


@hookimpl
def on_step(run):
    time.sleep(0.01)
'''

BAR_SPEC = '''
[run]
name = "bar"
plugins = ["slow_steps"]

[loop]
max_steps = 60
log_every = 5
eval_every = "20 steps"

[backend]
use = "testing"
'''

CV_SPEC = '''
[run]
name = "cvr"

[loop]
max_steps = 20
eval_every = "10 steps"

[backend]
use = "testing"

[cv]
folds = 3
'''


def _on_a_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (so it draws the bar); all it wrote."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "160", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "engine", *args], cwd=cwd, env=env,
                               stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=120), b"".join(chunks).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_bar_shows_the_step_of_each_evaluation(tmp_path):
    (tmp_path / "slow_steps.py").write_text(SLOW_STEPS)
    (tmp_path / "s.toml").write_text(BAR_SPEC)
    code, text = _on_a_terminal(["run", "s.toml"], tmp_path)
    assert code == 0, text
    shown = re.findall(r"eval step (\d+)|(\d+)/60 steps", text)
    evals = [index for index, (evaluated, _) in enumerate(shown) if evaluated]
    assert len(evals) == 3, text
    for index in evals:  # the bar drawn under an evaluation's line is at that evaluation's step
        step = shown[index][0]
        assert shown[index + 1][1] == step, (step, shown)
    assert "run bar" in text  # the final table follows the bar


def test_cross_validation_ends_with_a_mean_and_std_table(cli, tmp_path):
    (tmp_path / "cv.toml").write_text(CV_SPEC)
    result = cli("run", "cv.toml", "--plain")
    assert result.code == 0, result
    summary = read_json(tmp_path / "runs" / "cvr" / "summary.json")
    tail = result.err[result.err.index("cross-validation 'cvr': mean ± std over folds"):].splitlines()
    assert "status" in tail[1] and "completed" in tail[1], result
    assert tail[2].split() == ["folds", "3"], result
    for name, metric in summary["metrics"].items():
        row = next(line for line in tail if line.split()[0] == name)
        assert f"{metric['mean']:.6g} ± {metric['std']:.2g}  (n=3)" in row, (row, metric)
    assert tail[-1].split() == ["run", "directory", "runs/cvr"], result
    assert result.err.count("mean ± std") == 1


def test_cross_validation_table_is_quiet_with_q(cli, tmp_path):
    (tmp_path / "cv.toml").write_text(CV_SPEC)
    result = cli("run", "cv.toml", "-q")
    assert result.code == 0, result
    assert result.err == "", result
