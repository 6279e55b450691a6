"""``engine checkpoints`` inspects a run without running any of its code: the modules in its
``[run] plugins`` are not imported, and it still lists the checkpoints."""

from __future__ import annotations

PLUGIN = """
import engine
from engine._core.builtin.testing_backend import TestingBackendOptions


@engine.hookimpl
def engine_register_components(registry):
    registry.add("backend", "local-testing", "engine.testing.backend:TestingBackend",
                 options=TestingBackendOptions)
"""

SPEC = """
[run]
plugins = ["localplug"]

[loop]
max_steps = 4
eval_every = "never"
checkpoint_every = "2 steps"

[backend]
use = "local-testing"

[checkpoint]
keep_last = 2
"""


def test_checkpoints_lists_a_run_without_importing_its_plugins(cli, tmp_path):
    (tmp_path / "localplug.py").write_text(PLUGIN)
    (tmp_path / "s.toml").write_text(SPEC)
    assert cli("run", "s.toml", "--quiet").code == 0
    # the run directory now comes from elsewhere, with a module of that name on the path
    marker = tmp_path / "imported"
    (tmp_path / "localplug.py").write_text(f"open({str(marker)!r}, 'w').close()\n" + PLUGIN)

    for target in ("s.toml", "runs/s"):
        result = cli("checkpoints", target)
        assert result.code == 0, result
        assert "step-000000002  step 2" in result.out and "step-000000004  step 4" in result.out, result
        assert not marker.exists(), f"engine checkpoints {target} imported the run's plugin module"


def test_checkpoints_of_a_spec_with_a_bad_storage_section_is_a_spec_error(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC + "sav_top_k = 1\n")
    result = cli("checkpoints", "s.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and "checkpoint.sav_top_k" in result.error_lines[0], result
    assert "Traceback" not in result.err, result
