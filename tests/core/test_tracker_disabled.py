"""A tracker the core's guard disabled is said at the end: a ``tracking`` row in the status
table and a ``tracking`` entry in summary.json, with the reason (secrets hidden)."""

from __future__ import annotations

import json

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin

SPEC = """
[run]
name = "r"
plugins = ["leaky"]

[loop]
max_steps = 4

[backend]
use = "testing"

"""


def test_a_disabled_tracker_is_named_in_the_status_table_and_the_summary(cli, tmp_path):
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC + secrets.leaky_tracker(""))
    result = cli("run", "spec.toml", "--plain", *secrets.overrides())
    assert result.code == 0, result
    rows = [line.split(None, 1)[1] for line in result.err.splitlines() if line.strip().startswith("tracking ")]
    assert len(rows) == 1 and rows[0].startswith("disabled (tracker[0] 'leaky' failed in on_log: "), result
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert list(summary["tracking"]) == ["tracker[0] 'leaky'"]
    assert summary["tracking"]["tracker[0] 'leaky'"].startswith("disabled (tracker[0] 'leaky' failed in on_log: ")
    assert secrets.leaks(files=[tmp_path / "runs"], texts=[result.out, result.err]) == []


def test_a_run_whose_trackers_all_worked_has_no_tracking_entry(cli, tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC.replace('plugins = ["leaky"]', "plugins = []"))
    result = cli("run", "spec.toml", "--plain")
    assert result.code == 0, result
    assert "tracking" not in json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert not [line for line in result.err.splitlines() if line.strip().startswith("tracking ")], result
