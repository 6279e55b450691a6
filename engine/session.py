"""Loading, checking and running specs: what ``engine run``, ``engine check``, ``engine tune``,
:mod:`engine.testing` and a plugin's own commands all go through.

::

    from engine import session

    spec = session.load("spec.toml", ["loop.max_steps=100"])
    result = session.run(spec)            # a cross-validation when the spec has [cv]
    print(result.status, result.summary["metrics"])

A command (``engine_add_commands``) receives a :class:`Session`: the plugins that ``-p``
selected. Pass it on (``session.load(path, overrides, session=…)``) so the spec is structured
with the same plugins. A tool that edits specs before running them (a tuner) reads a
:class:`RawSpec`, changes it with :meth:`RawSpec.with_values`, and structures it with
:func:`structure`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine._core.cadence import parse_duration
from engine._core.cli.commands import add_spec_arguments
from engine._core.cli.session import Session
from engine._core.errors import EngineError
from engine._core.execute import RunResult
from engine._core.plugins import Plugins
from engine._core.run_tree import run_directories
from engine._core.rundir import run_dir_for
from engine._core.spec.load import RawSpec, read_raw, structure_spec
from engine._core.spec.model import Spec
from engine._core.spec.paths import path_problem, value_problem
from engine._core.spec.toml_text import dump_toml
from engine._core.status import RunStatus

if TYPE_CHECKING:
    from engine._core.run import Run

__all__ = [
    "Plugins", "RawSpec", "RunResult", "Session", "Spec",
    "add_spec_arguments", "check", "dump_toml", "load", "parse_duration", "path_problem", "prepared", "read", "run",
    "run_dir_for", "run_directories", "structure", "value_problem",
]


def read(spec_path: str | Path | None = None, overrides: Sequence[str] = (), *, text: str | None = None) -> RawSpec:
    """Read a spec file (or TOML ``text``) and apply ``--set`` style ``overrides``
    (``"loop.max_steps=10"``), without structuring it: enough to know its local plugins."""
    return read_raw(spec_path, text=text, overrides=overrides)


def structure(raw: RawSpec, session: Session | Plugins | None = None) -> Spec:
    """Structure and check ``raw`` with the session's plugins and the spec's own ``[run] plugins``;
    every problem is reported at once in one :class:`engine.SpecError`."""
    return structure_spec(raw, _plugins(raw, session))


def load(spec_path: str | Path, overrides: Sequence[str] = (), plugin_args: Sequence[str] = (), *,
         session: Session | None = None) -> Spec:
    """:func:`read` then :func:`structure`: a spec ready for :func:`run` or :func:`check`.
    ``plugin_args`` are ``-p`` values (``"mymodule"``, ``"no:console"``); pass a command's
    ``session`` instead to use the plugins it was started with."""
    if session is not None and plugin_args:
        raise TypeError("pass either plugin_args or session, not both")
    return structure(read(spec_path, overrides), session or Session(plugin_args))


def run(spec: Spec, *, run_dir: str | Path | None = None, resume: bool = False, allow_changes: bool = False,
        console: str = "auto", shared: dict[str, Any] | None = None) -> RunResult:
    """Train ``spec`` to the end, or each fold of a cross-validation when it has ``[cv]``.

    ``resume`` continues from the newest committed checkpoint (or starts when there is none);
    ``allow_changes`` lets it resume with changes to the data order or numerics. ``console``
    is ``"auto"``, ``"plain"`` or ``"quiet"``. ``shared`` is :attr:`engine.Run.shared`: one
    dict for every run of one session in this process (the trials of a tuning worker).

    A problem the user can fix raises :class:`engine.EngineError` before anything is written;
    a failure during training is in the result (``status``, ``exit_code``, ``error``).
    """
    from engine._core.cv import execute_cv
    from engine._core.execute import execute

    plugins = _spec_plugins(spec)
    if allow_changes and not resume:
        raise EngineError("--allow-changes applies only to --resume", fix="add --resume, or drop --allow-changes")
    runner = execute_cv if spec.cv is not None else execute
    return runner(spec, plugins, resume=resume, run_dir=run_dir, console=console, shared=shared,
                  allow_changes=allow_changes)


def check(spec: Spec, *, run_dir: str | Path | None = None) -> None:
    """Everything a run does before its first step (components, strategy, model, data, the
    monitored metrics, one batch), then give it all back: nothing trained, nothing written.
    Raises :class:`engine.EngineError` for whatever :func:`run` would refuse."""
    from engine._core.checkpoint.storage import check_writable
    from engine._core.execute import build_storage

    directory = run_dir_for(spec, None if run_dir is None else str(run_dir))
    check_writable(build_storage(spec, directory))  # a run would only warn at each save
    with prepared(spec, run_dir=directory):
        pass


@contextlib.contextmanager
def prepared(spec: Spec, *, run_dir: str | Path | None = None) -> Iterator[Run]:
    """The run as :func:`check` sets it up (components, strategy, model, data, one batch through
    the model), held for a command that drives the backend itself (``engine lr-find``), then
    given back (the backend's and strategy's ``on_run_end``). The engine trains nothing and
    writes nothing; the :class:`engine.Run` yielded has ``run.backend`` and ``run.components``.
    Raises :class:`engine.EngineError` for whatever :func:`run` would refuse before training."""
    from engine._core.execute import set_up, tear_down

    directory = run_dir_for(spec, None if run_dir is None else str(run_dir))
    fold = (0, spec.cv.folds) if spec.cv is not None else None
    held = set_up(spec, _spec_plugins(spec), directory, fold=fold, console="quiet")
    try:
        yield held
    finally:
        tear_down(held, status=RunStatus.COMPLETED)


def _plugins(raw: RawSpec, session: Session | Plugins | None) -> Plugins:
    if isinstance(session, Plugins):
        return session
    return (session or Session(())).plugins_for(raw.local_plugins)


def _spec_plugins(spec: Spec) -> Plugins:
    if spec.plugins is None:
        raise TypeError("this Spec was not structured by engine.session: load it with session.load()")
    return spec.plugins
