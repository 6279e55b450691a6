"""``engine check`` does the whole set-up of a run and refuses what ``run`` would refuse,
with one line, writing nothing; ``run`` refuses the same before its run directory exists."""

from __future__ import annotations

import json

import pytest

BASE = """
[loop]
max_steps = 6
eval_every = "3 steps"

[backend]
use = "testing"
"""

DEEP = "[loop]\nmax_steps = 1\n[backend]\nuse = 'testing'\nextra = " + "[" * 40 + "]" * 40 + "\n"
DEEPER = DEEP.replace("[" * 40 + "]" * 40, "{a = " * 3000 + "}" * 3000)  # the parser itself recursed

# (name, text added to BASE (or a whole spec), fragment of the one error line)
MISTAKES = [
    ("early-stop monitor", '[early_stop]\nmonitor = "val/acc"\n',
     "early_stop.monitor: 'val/acc' is not a metric the backend reports"),
    ("checkpoint monitor", '[checkpoint]\nmonitor = "val/los"\nsave_top_k = 1\n',
     "checkpoint.monitor: 'val/los' is not a metric the backend reports — did you mean 'val/loss'?"),
    ("save_top_k without monitor", "[checkpoint]\nsave_top_k = 2\n",
     "checkpoint.save_top_k: keeping the 2 best checkpoints needs a metric"),
    ("max_time nan", "--set loop.max_time=nan", "loop.max_time: expected a finite duration, got nan"),
    ("max_time inf", "--set loop.max_time=inf", "loop.max_time: expected a finite duration, got inf"),
    ("max_time overflow", '--set loop.max_time="1e999 min"', "loop.max_time: expected a finite duration"),
    ("lr nan", "--set backend.lr=nan", "backend.lr: expected a finite number, got nan"),
    ("min_delta inf", "[early_stop]\nmin_delta = inf\n", "early_stop.min_delta: expected a finite number, got inf"),
    ("negative seed", "--set run.seed=-1", "run.seed: expected an integer from 0 to 2147483647, got -1"),
    ("seed beyond 64 bits", "--set run.seed=18446744073709551616", "run.seed: expected an integer from 0 to"),
    ("one fold", "[cv]\nfolds = 1\n", "cv.folds: expected an integer >= 2, got 1"),
    ("deep nesting", DEEP, "backend.extra: tables or arrays nested too deeply (at most 32 levels)"),
    ("very deep nesting", DEEPER, "not valid TOML: tables or arrays nested too deeply (at most 32 levels)"),
]


def _write(tmp_path, addition: str) -> list[str]:
    """Write the spec; return the command-line overrides."""
    if addition.startswith("--set "):
        (tmp_path / "s.toml").write_text(BASE)
        return ["--set", addition.removeprefix("--set ")]
    text = addition if addition in (DEEP, DEEPER) else BASE + addition
    (tmp_path / "s.toml").write_text(text)
    return []


@pytest.mark.parametrize(("name", "addition", "fragment"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_check_and_run_refuse_the_mistake_with_one_line_and_write_nothing(cli, tmp_path, name, addition,
                                                                         fragment):
    overrides = _write(tmp_path, addition)
    for command in ("check", "run"):
        result = cli(command, "s.toml", *overrides)
        assert result.code == 2, result
        assert len(result.error_lines) == 1 and fragment in result.error_lines[0], result
        assert "Traceback" not in result.err, result
        assert not (tmp_path / "runs").exists(), f"{command} left {list((tmp_path / 'runs').iterdir())}"


def test_save_top_k_ranks_by_the_early_stop_monitor_when_the_checkpoint_names_none(cli, tmp_path):
    (tmp_path / "s.toml").write_text(BASE + '[checkpoint]\nstorage = "ckpt"\nsave_top_k = 1\n'
                                            '[early_stop]\nmonitor = "val/loss"\n')
    result = cli("check", "s.toml")
    assert result.code == 0, result


def test_check_sets_up_the_run_and_writes_nothing(cli, tmp_path):
    (tmp_path / "s.toml").write_text(BASE + '[checkpoint]\nstorage = "ckpt"\nmonitor = "val/mae"\nsave_top_k = 1\n'
                                            '[early_stop]\nmonitor = "val/loss"\n')
    result = cli("check", "s.toml")
    assert result.code == 0, result
    assert "OK" in result.err and 'use = "testing"' in result.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no run directory, no checkpoints


def test_check_reports_an_error_in_the_users_code_as_theirs(cli, tmp_path):
    (tmp_path / "broken.py").write_text("def make():\n    raise RuntimeError('my bug')\n")
    (tmp_path / "s.toml").write_text(BASE + '[checkpoint]\nstorage = "ckpt"\n[run]\nplugins = ["plug"]\n')
    (tmp_path / "plug.py").write_text(
        "import engine\n"
        "from engine.testing.backend import TestingBackend\n"
        "class Failing(TestingBackend):\n"
        "    def dry_run(self, run):\n"
        "        raise RuntimeError('my bug')\n"
        "@engine.hookimpl\n"
        "def engine_register_components(registry):\n"
        "    from engine._core.builtin.testing_backend import TestingBackendOptions\n"
        "    registry.add('backend', 'failing', 'plug:Failing', options=TestingBackendOptions)\n")
    for command in ("check", "run"):
        result = cli(command, "s.toml", "--set", "backend.use=failing")
        assert result.code == 1, result
        assert "RuntimeError: my bug" in result.err, result
        assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".py" and p.name != "__pycache__") \
            == ["s.toml"], result


def test_a_monitor_known_only_at_the_first_evaluation_fails_the_run_there_with_exit_2(cli, tmp_path):
    (tmp_path / "plug.py").write_text(
        "import engine\n"
        "from engine.testing.backend import TestingBackend\n"
        "class Unsure(TestingBackend):\n"
        "    def metric_names(self, run):\n"
        "        return None  # not known before the first evaluation\n"
        "@engine.hookimpl\n"
        "def engine_register_components(registry):\n"
        "    from engine._core.builtin.testing_backend import TestingBackendOptions\n"
        "    registry.add('backend', 'unsure', 'plug:Unsure', options=TestingBackendOptions)\n")
    (tmp_path / "s.toml").write_text(BASE.replace('"testing"', '"unsure"')
                                     + '[run]\nplugins = ["plug"]\n[early_stop]\nmonitor = "val/acc"\n')
    assert cli("check", "s.toml").code == 0  # nothing to compare with before an evaluation
    result = cli("run", "s.toml")
    assert result.code == 2, result
    assert result.error_lines == [
        "engine: error: s.toml: early_stop.monitor: 'val/acc' is not a metric the backend reports "
        "— did you mean 'val/mae'? it reports: val/loss, val/mae"], result
    summary = json.loads((tmp_path / "runs/s/summary.json").read_text())
    assert summary["status"] == "failed" and summary["steps"] == 3
