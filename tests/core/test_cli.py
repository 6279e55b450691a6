"""The CLI's informational commands: check, schema, plugins, hooks, checkpoints; the pytest kit."""

from __future__ import annotations

import json

pytest_plugins = ["pytester"]

SPEC = """
[loop]
max_steps = 4
checkpoint_every = "2 steps"

[backend]
use = "testing"
"""


def test_schema_describes_core_sections_and_installed_components(cli):
    result = cli("schema")
    assert result.code == 0, result
    schema = json.loads(result.out)
    assert schema["properties"]["loop"]["properties"]["max_steps"]["minimum"] == 1
    assert schema["properties"]["loop"]["additionalProperties"] is False
    backends = schema["properties"]["backend"]["oneOf"]
    testing = next(b for b in backends if b["properties"]["use"]["const"] == "testing")
    assert testing["properties"]["batch_size"]["default"] == 8


def test_schema_validates_an_example_spec(cli, tmp_path):
    import tomllib

    import pytest

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli("schema").out)
    jsonschema.validate(tomllib.loads(SPEC), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"backend": {"use": "testing", "batch_sise": 3}}, schema)


def test_hooks_lists_every_hook(cli):
    from engine._core import hookspecs

    out = cli("hooks").out
    for name in hookspecs._all_specs():
        assert f"{name}:" in out


def test_checkpoints_lists_committed_checkpoints(cli, tmp_path):
    (tmp_path / "s.toml").write_text(SPEC)
    assert cli("run", "s.toml", "--quiet").code == 0
    for target in ("s.toml", "runs/s"):
        result = cli("checkpoints", target)
        assert result.code == 0, result
        assert "step-000000002  step 2" in result.out and "step-000000004  step 4" in result.out


def test_help_and_version(cli):
    assert cli("--version").out.strip() == "engine 0.1.0"
    result = cli("--help")
    assert result.code == 0 and "run" in result.out and "check" in result.out


def test_pytest_fixtures_for_plugin_authors(pytester):
    pytester.makepyfile("""
        def test_uses_the_kit(engine_run, hook_recorder):
            result = engine_run({"backend": {"use": "testing"}, "loop": {"max_steps": 5}},
                                plugins=[hook_recorder])
            assert result.status == "completed"
            assert hook_recorder.count("on_step") == 5
    """)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
