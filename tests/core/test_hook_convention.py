"""One calling convention for every plugin: each ``on_*``/``engine_*`` function or method is a
hook implementation, marked or not, and receives only the arguments it names; a name that is
no hook or an argument its hook does not pass is refused at start-up in one line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from engine.testing.restarts import checkpointed_spec, read_summary, write_kill_plugin

#: A tracker whose methods ask for fewer arguments than their events pass (unmarked, as
#: tracker methods always could be).
TRACKER = """
import json
import attrs
import engine

@attrs.define
class WatchOptions(engine.TrackerOptions):
    pass

class Watch:
    def __init__(self, options):
        self.options = options

    def on_resume(self, run):
        (run.dir / "resumed.json").write_text(json.dumps({"step": run.step}))

    def on_log(self, step):
        pass

    def on_run_end(self, status):
        with open("statuses.txt", "a") as out:
            out.write(status + "\\n")

@engine.hookimpl
def engine_register_components(registry):
    registry.add("tracker", "watch", Watch, options=WatchOptions)
"""

RUN = """
[run]
name = "r"
plugins = [{plugins}]

[loop]
max_steps = 4
eval_every = "2 steps"

[backend]
use = "testing"
"""


def write(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


def test_a_tracker_method_with_a_subset_of_arguments_is_called_across_sigterm_and_resume(cli, tmp_path):
    write(tmp_path, "watch", TRACKER)
    write_kill_plugin(tmp_path)
    spec = checkpointed_spec() + '\n[run]\nname = "r"\nplugins = ["killer", "watch"]\n\n[[tracker]]\nuse = "watch"\n'
    (tmp_path / "spec.toml").write_text(spec)
    stopped = cli("run", "spec.toml", "--quiet", env={"KILL_AT": "2", "KILL_SIGNAL": "SIGTERM"})
    assert stopped.code == 143, stopped
    resumed = cli("run", "spec.toml", "--quiet", "--resume")
    assert resumed.code == 0, resumed
    assert "warning" not in resumed.err and "failed in" not in resumed.err, resumed
    assert json.loads((tmp_path / "runs/r/resumed.json").read_text()) == {"step": 2}
    assert (tmp_path / "statuses.txt").read_text().split() == ["interrupted", "completed"]
    assert read_summary(tmp_path / "runs/r")["status"] == "completed"


def test_unmarked_hooks_of_a_module_and_of_its_run_plugins_are_called(cli, tmp_path):
    write(tmp_path, "unmarked", """
        import json

        class Seen:
            def __init__(self):
                self.evals = []

            def on_eval(self, metrics):
                self.evals.append(sorted(metrics))

            def on_run_end(self, run):
                (run.dir / "evals.json").write_text(json.dumps(self.evals))

        def on_run_start(run):
            (run.dir / "started.txt").write_text(str(run.step))

        def engine_run_plugins(run):
            return [("run:seen", Seen())]
    """)
    (tmp_path / "spec.toml").write_text(RUN.format(plugins='"unmarked"'))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 0, result
    assert (tmp_path / "runs/r/started.txt").read_text() == "0"
    evals = json.loads((tmp_path / "runs/r/evals.json").read_text())
    assert len(evals) == 2 and all("val/loss" in names for names in evals)


@pytest.mark.parametrize("place", ["module", "tracker"])
def test_a_misspelled_hook_fails_at_start_up_naming_the_plugin_and_the_hook_meant(cli, tmp_path, place):
    if place == "module":
        write(tmp_path, "typo", "def on_evaluate(run, metrics):\n    pass\n")
        args = ["-p", "typo", "run", "spec.toml"]
        (tmp_path / "spec.toml").write_text(RUN.format(plugins=""))
        named = "plugin 'typo' (local module): on_evaluate is not a hook"
    else:
        write(tmp_path, "typo", TRACKER.replace("def on_log(self, step)", "def on_evaluate(self, metrics)"))
        args = ["run", "spec.toml"]
        (tmp_path / "spec.toml").write_text(RUN.format(plugins='"typo"') + '\n[[tracker]]\nuse = "watch"\n')
        named = "tracker 'watch' (local module): Watch.on_evaluate is not a hook"
    result = cli(*args, "--quiet")
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert len(result.error_lines) == 1 and result.err.strip() == result.error_lines[0], result
    assert named in result.err
    assert "did you mean on_eval?" in result.err
    assert not (tmp_path / "runs").exists()


def test_an_argument_the_hook_does_not_pass_fails_at_start_up_in_one_line(cli, tmp_path):
    write(tmp_path, "greedy", "def on_step(run, loss):\n    pass\n")
    (tmp_path / "spec.toml").write_text(RUN.format(plugins='"greedy"'))
    result = cli("run", "spec.toml", "--quiet")
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert len(result.error_lines) == 1 and result.err.strip() == result.error_lines[0], result
    assert "'greedy'" in result.err and "on_step asks for loss" in result.err
    assert "ask for any of run" in result.err
    assert not (tmp_path / "runs").exists()


def test_a_hook_wrapper_wraps_each_plugins_registration(cli, tmp_path):
    write(tmp_path, "wrapping", """
        import engine

        @engine.hookimpl(wrapper=True)
        def engine_add_commands(commands):
            before = len(commands.commands)
            result = yield
            with open("wrapped.txt", "a") as out:
                out.write(f"{before} {len(commands.commands)}\\n")
            return result
    """)
    result = cli("-p", "wrapping", "plugins")
    assert result.code == 0, result
    assert "run" in result.out.split("command:", 1)[1]
    counts = [line.split() for line in (tmp_path / "wrapped.txt").read_text().splitlines()]
    assert counts and all(int(after) > int(before) for before, after in counts)



def test_each_instance_has_its_own_hooks_after_another_of_its_class_was_registered():
    """What an instance's class implements is read once per class; an attribute the instance
    holds itself (a function set in ``__init__``, a value hiding the class's method) is its own."""
    from engine._core.hookcalls import implementations, problems

    class Tracker:
        def on_log(self, step):
            pass

        def helper(self):
            pass

    def hooks(plugin):
        return sorted(hook for _, hook, _ in implementations(plugin))

    first = Tracker()
    assert hooks(first) == ["on_log"]
    with_own = Tracker()
    with_own.on_step = lambda step: None
    hidden = Tracker()
    hidden.on_log = None
    wrong = Tracker()
    wrong.on_lgo = lambda step: None
    assert hooks(with_own) == ["on_log", "on_step"]
    assert hooks(hidden) == []
    assert problems(wrong) == ["Tracker.on_lgo is not a hook — did you mean on_log?"]
    assert hooks(first) == ["on_log"] and problems(first) == []
