"""A kit for plugin authors: run a spec in a test, record the hooks it fires.

    from engine.testing import HookRecorder, run_spec

    def test_my_tracker(tmp_path):
        recorder = HookRecorder()
        result = run_spec({"backend": {"use": "testing"}, "loop": {"max_steps": 20}},
                          tmp_path, plugins=[recorder])
        assert result.status == "completed"
        assert recorder.count("on_step") == 20

The ``testing`` backend (:mod:`engine.testing.backend`) needs neither numpy nor torch.
:func:`cli` runs the ``engine`` command line (in a subprocess or in this process);
:func:`kill_and_resume` kills a run at a step, resumes it and returns it beside a run that
never stopped (see :mod:`engine.testing.restarts`).
Installed with ``engine``, the fixtures ``engine_run`` and ``hook_recorder`` are available
to pytest (see :mod:`engine.testing.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine._core.execute import RunResult
from engine._core.plugins import Plugins, load_plugins
from engine._core.spec.load import RawSpec, read_raw, structure_spec
from engine._core.spec.model import Spec
from engine._core.spec.overrides import apply_overrides
from engine._core.spec.toml_text import dump_toml
from engine.testing.commandline import CliResult, cli
from engine.testing.recorder import HookCall, HookRecorder
from engine.testing.restarts import KillAndResume, Resumed, kill_and_resume, resume_after_kill

__all__ = ["CliResult", "HookCall", "HookRecorder", "KillAndResume", "Resumed", "RunResult", "cli",
           "kill_and_resume", "load_spec_for_test", "resume_after_kill", "run_spec"]


def _raw(spec: str | Mapping[str, Any], overrides: Sequence[str]) -> RawSpec:
    if isinstance(spec, str):
        return read_raw(text=spec, overrides=overrides)
    data, sources = apply_overrides(dict(spec), overrides)
    return RawSpec(data, dump_toml(dict(spec)), "<dict>", sources)


def load_spec_for_test(spec: str | Mapping[str, Any], *, overrides: Sequence[str] = (),
                       plugins: Iterable[object] = (), blocked: Iterable[str] = ()) -> tuple[Spec, Plugins]:
    """Structure a spec given as TOML text or a dict, with extra plugin objects registered."""
    raw = _raw(spec, overrides)
    loaded = load_plugins(
        blocked=blocked, extra_modules=raw.local_plugins,
        extra_plugins=[(f"test-plugin-{i}", p) for i, p in enumerate(plugins)],
    )
    return structure_spec(raw, loaded), loaded


def run_spec(spec: str | Mapping[str, Any], directory: str | Path, *, overrides: Sequence[str] = (),
             resume: bool = False, plugins: Iterable[object] = (), blocked: Iterable[str] = (),
             console: str = "quiet") -> RunResult:
    """Run a spec (TOML text or dict) in this process with its run directory at ``directory``;
    how it ended, as ``engine run`` would have: a failure in training is a ``RunResult`` whose
    ``status`` is ``"failed"``, a mistake in the spec raises ``EngineError`` before anything is written.

    ``overrides`` are ``--set`` values (``"loop.max_steps=10"``). ``resume=True`` is ``--resume``:
    the run goes on from the newest committed checkpoint in ``directory`` (or starts when there is
    none) and ``RunResult.resumed_from`` is that checkpoint's step. ``plugins`` are extra plugin
    objects registered for this run (a :class:`HookRecorder`), ``blocked`` names plugins to leave
    out (``-p no:NAME``); ``console`` is ``"quiet"``, ``"plain"`` or ``"auto"``.
    """
    from engine import session

    structured, _ = load_spec_for_test(spec, overrides=overrides, plugins=plugins, blocked=blocked)
    return session.run(structured, resume=resume, run_dir=directory, console=console)
