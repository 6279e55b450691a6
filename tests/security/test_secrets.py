"""Secrets never leave the spec: planted secrets, every place a run writes or prints, zero hits.

A local plugin plays a tracker whose "library" echoes everything it was given in its log
lines, warnings, prints and exceptions, as real client libraries do (engine.testing.secrets).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin

SPEC = """
[run]
name = "leak"
plugins = ["leaky"]

[loop]
max_steps = 4
eval_every = "2 steps"

[backend]
use = "testing"

[checkpoint]
keep_last = 2
monitor = "val/loss"

"""


def _plant(tmp_path: Path, extra: str = "") -> PlantedSecrets:
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC + secrets.leaky_tracker(extra))
    return secrets


def test_a_failing_tracker_that_echoes_its_settings_leaks_nothing(cli, tmp_path):
    secrets = _plant(tmp_path)
    result = cli("run", "spec.toml", *secrets.overrides())
    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("engine: warning:")]
    assert len(warnings) == 1 and "tracker[0] 'leaky' failed" in warnings[0], result
    assert "***" in warnings[0], result  # hidden, not dropped
    run_dir = tmp_path / "runs" / "leak"
    assert secrets.leaks(files=[run_dir], texts=[result.out, result.err]) == []
    recorded = (run_dir / "spec.toml").read_text()
    assert 'pwd = "***"' in recorded and "password_number = \"***\"" in recorded, recorded
    assert "http://***@127.0.0.1:9/hook" in recorded, recorded
    assert "keep_last = 2" in recorded and 'monitor = "val/loss"' in recorded, recorded  # not secrets
    argv = json.loads((run_dir / "env.json").read_text())["argv"]
    assert "tracker[0].headers.bearer=***" in argv and "--set=tracker.0.headers.cookie=***" in argv, argv


def test_a_strict_tracker_failure_leaks_nothing_in_errors_summary_or_error_log(cli, tmp_path):
    secrets = _plant(tmp_path, extra="strict = true")
    result = cli("run", "spec.toml", "-q", *secrets.overrides())
    assert result.code == 1, result
    assert len(result.error_lines) >= 1 and "***" in result.err, result
    run_dir = tmp_path / "runs" / "leak"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and "ConnectionError" in summary["reason"], summary
    assert (run_dir / "error.log").read_text().strip(), "error.log records the traceback"
    assert secrets.leaks(files=[run_dir], texts=[result.out, result.err]) == []


def test_a_component_that_fails_to_build_leaks_nothing_in_the_traceback(cli, tmp_path):
    secrets = _plant(tmp_path, extra="fail_on_build = true")
    result = cli("run", "spec.toml", *secrets.overrides())
    assert result.code == 1, result
    assert "traceback from your code" in result.err and "ValueError: bad settings" in result.err, result
    assert not (tmp_path / "runs").exists()
    assert secrets.leaks(texts=[result.out, result.err]) == []


@pytest.mark.parametrize("override", [
    'tracker[0].password_number="not a number {secret}"',  # a type error that quotes the value
    "tracker[0].pwd=[unclosed {secret}",                   # an override that is not TOML
    'tracker[0].auth = {{ token = "{secret}" }}',          # a table where a string belongs
])
def test_spec_errors_do_not_echo_secret_values(cli, tmp_path, override):
    secrets = _plant(tmp_path, extra="unknown_option = 1")
    result = cli("run", "spec.toml", "--set", override.format(secret=secrets["in the override"]))
    assert result.code == 2, result
    assert result.error_lines, result
    assert not (tmp_path / "runs").exists()
    assert secrets.leaks(texts=[result.out, result.err]) == []


def test_check_prints_the_spec_redacted(cli, tmp_path):
    secrets = _plant(tmp_path)
    result = cli("check", "spec.toml", *secrets.overrides())
    assert result.code == 0, result
    assert "Authorization" in result.out and "***" in result.out, result
    assert secrets.leaks(texts=[result.out, result.err]) == []


def test_an_unusable_storage_url_with_credentials_is_reported_without_them(cli, tmp_path):
    secrets = _plant(tmp_path)
    url = f"ftp://bob:{secrets.url_password('storage password')}@127.0.0.1:9/runs"
    result = cli("run", "spec.toml", "--set", f'checkpoint.storage="{url}"')
    assert result.code == 2, result
    assert "checkpoint.storage" in result.err, result
    assert secrets.leaks(texts=[result.out, result.err]) == []


def test_the_documented_key_list_is_the_one_in_force():
    from engine._core import redact

    text = (Path(__file__).parents[2] / "docs" / "security.md").read_text()
    section = text.split("## Redaction", 1)[1].split("\n## ", 1)[0]
    for word in sorted(redact.SECRET_WORDS | redact.SECRET_LAST_WORDS | set(redact.SECRET_FRAGMENTS)):
        assert f"`{word}`" in section, f"{word!r} is not documented in docs/security.md ## Redaction"
