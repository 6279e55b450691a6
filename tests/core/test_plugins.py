"""Plugins: entry points, local modules, blocking, validation, and blame when one fails."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from engine.testing import HookRecorder, run_spec

SPEC = """
[run]
name = "r"
{extra}

[loop]
max_steps = 6

[backend]
use = "testing"
"""


def write_module(tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))


def install_fake_distribution(site: Path, dist: str, entry_points: dict[str, str]) -> None:
    """A real installed distribution (dist-info with entry points) on a path we put on PYTHONPATH."""
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[engine]\n{lines}\n")


def test_local_plugin_module_from_the_spec_receives_events(cli, tmp_path):
    write_module(tmp_path, "my_plugin", """
        import engine, json

        @engine.hookimpl
        def on_run_end(run, status):
            (run.dir / "seen.json").write_text(json.dumps({"status": status, "step": run.step}))
    """)
    (tmp_path / "spec.toml").write_text(SPEC.format(extra='plugins = ["my_plugin"]'))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 0, result
    assert json.loads((tmp_path / "runs/r/seen.json").read_text()) == {"status": "completed", "step": 6}


def test_entry_point_plugin_is_listed_and_can_be_blocked(cli, tmp_path):
    write_module(tmp_path, "ep_plugin", """
        import engine

        @engine.hookimpl
        def on_step(run):
            pass
    """)
    install_fake_distribution(tmp_path, "engine-epdemo", {"epdemo": "ep_plugin"})
    listed = cli("plugins", "--json")
    assert listed.code == 0, listed
    rows = {row["name"]: row for row in json.loads(listed.out)}
    assert rows["epdemo"]["origin"] == "engine-epdemo 1.2.3"
    assert rows["epdemo"]["hooks"] == ["on_step"]
    blocked = cli("-p", "no:epdemo", "plugins", "--json")
    assert "epdemo" not in {row["name"] for row in json.loads(blocked.out)}


def test_plugin_that_fails_to_import_names_its_distribution(cli, tmp_path):
    write_module(tmp_path, "broken_plugin", "import does_not_exist_anywhere\n")
    install_fake_distribution(tmp_path, "engine-broken", {"broken": "broken_plugin"})
    (tmp_path / "spec.toml").write_text(SPEC.format(extra=""))
    result = cli("run", "spec.toml")
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert len(result.error_lines) == 1
    assert "engine-broken 1.2.3" in result.err and "-p no:broken" in result.err
    assert not (tmp_path / "runs").exists()
    assert cli("-p", "no:broken", "run", "spec.toml", "--quiet").code == 0


def test_a_plugin_named_like_a_component_kind_is_a_clear_error(cli, tmp_path):
    write_module(tmp_path, "clash_plugin", "")
    install_fake_distribution(tmp_path, "engine-clash", {"precision": "clash_plugin"})
    (tmp_path / "spec.toml").write_text(SPEC.format(extra=""))
    result = cli("run", "spec.toml")
    assert result.code == 2, result
    assert len(result.error_lines) == 1 and "Traceback" not in result.err
    assert "'precision' (engine-clash 1.2.3) is reserved" in result.err and "engine-precision" in result.err
    assert not (tmp_path / "runs").exists()


def test_misspelled_hook_is_an_error_naming_the_plugin(cli, tmp_path):
    write_module(tmp_path, "typo_plugin", """
        import engine

        @engine.hookimpl
        def on_stepp(run):
            pass
    """)
    (tmp_path / "spec.toml").write_text(SPEC.format(extra='plugins = ["typo_plugin"]'))
    result = cli("run", "spec.toml")
    assert result.code == 2, result
    assert "typo_plugin" in result.err and "on_stepp" in result.err
    assert "Traceback" not in result.err


def test_two_plugins_registering_one_name_names_both_distributions(cli, tmp_path):
    for name in ("dup_a", "dup_b"):
        write_module(tmp_path, name, """
            import engine
            from engine.testing.backend import TestingBackend, TestingBackendOptions

            @engine.hookimpl
            def engine_register_components(registry):
                registry.add("backend", "twin", TestingBackend, options=TestingBackendOptions)
        """)
        install_fake_distribution(tmp_path, f"engine-{name}", {name: name})
    result = cli("plugins")
    assert result.code == 2, result
    assert "engine-dup-a 1.2.3" in result.err or "engine-dup_a 1.2.3" in result.err
    assert "engine-dup-b 1.2.3" in result.err or "engine-dup_b 1.2.3" in result.err
    assert "backend 'twin'" in result.err


def test_hook_that_raises_is_reported_with_the_plugin_name_and_end_hooks_run(cli, tmp_path):
    write_module(tmp_path, "bad_hook", """
        import engine, json

        @engine.hookimpl
        def on_step(run):
            if run.step == 3:
                raise ZeroDivisionError("oops in my plugin")

        @engine.hookimpl
        def on_exception(run, exception):
            (run.dir / "exception.txt").write_text(type(exception).__name__)

        @engine.hookimpl
        def on_run_end(run, status):
            (run.dir / "status.txt").write_text(status)
    """)
    (tmp_path / "spec.toml").write_text(SPEC.format(extra='plugins = ["bad_hook"]'))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 1, result
    assert len(result.error_lines) == 1
    assert "plugin 'bad_hook'" in result.err and "ZeroDivisionError: oops in my plugin" in result.err
    assert (tmp_path / "runs/r/exception.txt").read_text() == "ZeroDivisionError"
    assert (tmp_path / "runs/r/status.txt").read_text() == "failed"
    summary = json.loads((tmp_path / "runs/r/summary.json").read_text())
    assert summary["status"] == "failed" and summary["steps"] == 3
    assert "ZeroDivisionError" in (tmp_path / "runs/r/error.log").read_text()


def test_components_that_implement_hooks_are_plugins_for_the_run_only(tmp_path):
    import attrs

    import engine

    events = []

    class Echo:
        def __init__(self, options):
            self.options = options

        @engine.hookimpl
        def on_eval(self, run, metrics):
            events.append(run.step)

    @attrs.define
    class EchoOptions:
        pass

    class Provider:
        @engine.hookimpl
        def engine_register_components(self, registry):
            registry.add("strategy", "echo", Echo, options=EchoOptions)

    spec = {"backend": {"use": "testing", "train_size": 16, "batch_size": 8}, "loop": {"max_steps": 6},
            "strategy": {"use": "echo"}}
    recorder = HookRecorder()
    result = run_spec(spec, tmp_path / "a", plugins=[Provider(), recorder])
    assert result.status == "completed"
    assert events == [2, 4, 6]
    from engine.testing import load_spec_for_test

    _, plugins = load_spec_for_test(spec, plugins=[Provider()])
    assert not plugins.pm.has_plugin("strategy")


def test_autoload_can_be_switched_off_and_hook_calls_traced(cli, tmp_path):
    write_module(tmp_path, "ep_off", "import engine\n")
    install_fake_distribution(tmp_path, "engine-off", {"off": "ep_off"})
    assert "off  (engine-off 1.2.3)" in cli("plugins").out
    assert "engine-off" not in cli("plugins", env={"ENGINE_DISABLE_PLUGIN_AUTOLOAD": "1"}).out
    (tmp_path / "spec.toml").write_text(SPEC.format(extra=""))
    traced = cli("run", "spec.toml", "--quiet", env={"ENGINE_TRACE_HOOKS": "1"})
    assert traced.code == 0, traced
    assert "on_run_start [hook]" in traced.err and "finish on_run_end" in traced.err


def test_a_plugin_failing_in_on_run_end_fails_the_run_with_one_line(cli, tmp_path):
    write_module(tmp_path, "end_fails", """
        import engine

        @engine.hookimpl
        def on_run_end(run, status):
            raise RuntimeError("cannot flush")
    """)
    (tmp_path / "spec.toml").write_text(SPEC.format(extra='plugins = ["end_fails"]'))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 1, result
    assert len(result.error_lines) == 1 and "plugin 'end_fails'" in result.err
    assert "Traceback" not in result.err
    assert json.loads((tmp_path / "runs/r/summary.json").read_text())["status"] == "failed"
