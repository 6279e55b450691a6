"""The core's failure policy around the tracker: warn once and keep training, or fail when strict."""

from __future__ import annotations

SPEC = """
[loop]
max_steps = 20

[backend]
use = "testing"

[[tracker]]
use = "tensorboard"
log_dir = "blocked/tb"
{strict}
"""


def test_unwritable_log_dir_warns_once_and_training_completes(cli, tmp_path):
    (tmp_path / "blocked").write_text("a file where the log folder should be")
    (tmp_path / "spec.toml").write_text(SPEC.format(strict=""))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1, result
    assert "tracker[0] 'tensorboard' failed" in warnings[0]
    assert (tmp_path / "runs" / "spec" / "model" / "final.json").exists()
    assert '"status": "completed"' in (tmp_path / "runs" / "spec" / "summary.json").read_text()


def test_strict_tracker_failure_fails_the_run(cli, tmp_path):
    (tmp_path / "blocked").write_text("a file where the log folder should be")
    (tmp_path / "spec.toml").write_text(SPEC.format(strict="strict = true"))
    result = cli("run", "spec.toml", "-q")
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "tensorboard" in result.error_lines[0], result
    assert '"status": "failed"' in (tmp_path / "runs" / "spec" / "summary.json").read_text()
