"""``engine plot``: two runs of the testing backend, one PNG with a subplot per metric."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

SPEC = """
[run]
name = "{name}"

[loop]
max_steps = 40
log_every = 2
eval_every = "10 steps"

[backend]
use = "testing"
lr = {lr}
"""


@pytest.fixture
def two_runs(cli, tmp_path):
    for name, lr in (("slow", 0.01), ("fast", 0.1)):
        (tmp_path / f"{name}.toml").write_text(SPEC.format(name=name, lr=lr))
        assert cli("run", f"{name}.toml", "-q").code == 0
    return ["runs/slow", "runs/fast"]


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_two_runs_all_metrics(cli, tmp_path, two_runs):
    result = cli("plot", *two_runs, "--output", "out/curves.png")
    assert result.code == 0, result
    assert "wrote out/curves.png: train/loss, val/loss, val/mae, lr for 2 runs" in result.out
    png = tmp_path / "out" / "curves.png"
    assert png.stat().st_size > 20_000
    width, height = _png_size(png)
    assert width >= 1200 and height >= 600  # a 3 x 2 grid of subplots


def test_plot_selected_metrics(cli, tmp_path, two_runs):
    result = cli("plot", *two_runs, "--metric", "val/loss", "-m", "lr", "-o", "two.png")
    assert result.code == 0, result
    assert "wrote two.png: val/loss, lr for 2 runs" in result.out
    width, height = _png_size(tmp_path / "two.png")
    assert (width, height) == (1000, 360)  # two subplots side by side
    assert (tmp_path / "two.png").stat().st_size > 10_000


def test_unknown_metric_and_missing_run_are_one_line_errors(cli, tmp_path, two_runs):
    result = cli("plot", *two_runs, "--metric", "val/los")
    assert result.code == 2 and result.error_lines == [
        "engine: error: --metric 'val/los' was not logged by any of these runs — did you mean 'val/loss'? "
        "logged: train/loss, val/loss, val/mae, lr"], result
    result = cli("plot", "runs/nothing")
    assert result.code == 2 and len(result.error_lines) == 1 and "runs/nothing: no metrics.jsonl" in result.err
    assert not (tmp_path / "curves.png").exists()


def test_engine_help_does_not_import_matplotlib():
    code = ("import sys, contextlib, io\n"
            "from engine._core.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "assert 'plot' in out.getvalue()\n"
            "print('matplotlib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr
