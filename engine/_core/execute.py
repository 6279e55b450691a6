"""Executing a structured spec: run directory, components, plugins, signals, summary."""

from __future__ import annotations

import contextlib
import inspect
import random
import shutil
import signal
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from engine._core import environment, loop, restart, rundir
from engine._core.backend import export_as_of, final_test
from engine._core.checkpoint.manager import CheckpointManager
from engine._core.collective import Processes
from engine._core.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    EngineError,
    TrainingError,
    UserCodeError,
)
from engine._core.hookcalls import check_hooks
from engine._core.plugins import Plugins
from engine._core.preflight import preflight
from engine._core.redact import redact_text
from engine._core.run import Run
from engine._core.spec.model import Configured, Spec
from engine._core.status import RunStatus
from engine._core.storage_policy import describe, write_failed, write_record
from engine._core.tracking import guard

ERROR_LOG = "error.log"


@attrs.define
class RunResult:
    """How a run ended: its status, exit code, directory and summary."""

    status: RunStatus
    exit_code: int
    dir: Path
    summary: dict[str, Any]
    error: EngineError | None = None
    #: The step of the checkpoint this run resumed from; ``None`` when it started at step 0.
    resumed_from: int | None = None


def execute(spec: Spec, plugins: Plugins, *, resume: bool = False, run_dir: str | Path | None = None,
            console: str = "auto", fold: tuple[int, int] | None = None,
            shared: dict[str, Any] | None = None, allow_changes: bool = False) -> RunResult:
    """Train ``spec`` to the end; problems a user can fix raise :class:`EngineError`
    before anything is written, failures during training end in a :class:`RunResult`.

    ``resume`` continues from the newest committed checkpoint, or starts the run when there
    is none (see :mod:`engine._core.restart`); ``allow_changes`` lets it resume with changes to the
    data order or numerics. ``shared`` is :attr:`Run.shared`: pass one dict to every run of a
    session (folds, trials).
    """
    # a plain run of a name that exists gets the next free directory (runs/<name>-2, ...)
    directory, claimed = rundir.resolve(spec, run_dir, resume=resume)
    discard = claimed.discard if claimed is not None else lambda: None
    try:
        # Everything a run would refuse is refused here, before anything is written.
        run = set_up(spec, plugins, directory, fold=fold, console=console, shared=shared)
    except BaseException:
        discard()
        raise
    manager = run.checkpoints
    assert manager is not None
    try:
        attempt = restart.begin(run, resume=resume, allow_changes=allow_changes,
                                notice=restart.print_notice, warn=lambda message: run.warn(message),
                                new_directory=claimed is not None)
    except BaseException:
        tear_down(run)
        discard()
        raise
    resume = attempt.resume
    # Under a multi-process strategy only the main process writes the run directory's records.
    main = run.is_main_process

    run._resuming = resume
    registered: list[str] = []
    try:
        if main:
            _write_records(run, attempt.write_spec)
        for name, plugin, origin in _run_plugins(run):
            plugins.register(plugin, name, origin)
            registered.append(name)
    except BaseException as exc:
        _unregister(plugins, registered)
        attempt.release()
        if (attempt.created or not resume) and main:  # a run that never started leaves nothing behind
            shutil.rmtree(directory, ignore_errors=True)
            discard()
        if isinstance(exc, OSError):
            raise restart.unwritable(directory, exc) from None
        raise

    error: EngineError | None = None
    try:
        with _signals_stop(run):
            try:
                loop.train(run, resume=resume)
                if run.status.finished:
                    _export_models(run)
            except BaseException as exc:
                error = _failure(run, exc)
                with contextlib.suppress(Exception):
                    run.hook.on_exception(run=run, exception=exc)
                if not isinstance(exc, Exception):
                    raise
    finally:
        manager.close()  # the run never exits before its last save is written
        run._loop.exit_code = _exit_code(run, error)
        summary = _write_summary(run)
        try:
            run.hook.on_run_end(run=run, status=run.status)
        except Exception as exc:  # a plugin failing at the very end still fails the run
            error = _failure(run, exc)
            run._loop.exit_code = _exit_code(run, error)
            summary = _write_summary(run)
        finally:
            _unregister(plugins, registered)
            attempt.release()
    return RunResult(run.status, run._loop.exit_code, directory, summary, error, run.resumed_from)


def set_up(spec: Spec, plugins: Plugins, directory: Path, *, fold: tuple[int, int] | None = None,
           console: str = "auto", shared: dict[str, Any] | None = None) -> Run:
    """The whole set-up of a run, writing nothing: storage, components, strategy, backend
    (model and data), then :func:`engine._core.preflight.preflight` (monitored metrics, one batch).
    ``engine run`` and ``engine check`` both start here, so whatever a run would refuse
    before training, ``check`` refuses too. A failure gives back what was taken
    (:func:`tear_down`); ``check`` calls it itself.
    """
    storage = build_storage(spec, directory)
    manager = CheckpointManager(storage, asynchronous=spec.checkpoint.asynchronous)
    run = Run(spec, plugins, directory, fold=fold, console=console, shared=shared)
    run._checkpoints = manager
    manager.warn = lambda message: run.warn(message)
    random.seed(spec.run.seed)
    try:
        _build_components(run)
        preflight(run)  # monitored metrics the backend reports, one batch through the model
    except BaseException:
        tear_down(run)
        raise
    return run


def tear_down(run: Run, status: str = RunStatus.FAILED) -> None:
    """Give back what :func:`set_up` took when no run follows it (``engine check``, a set-up
    that failed): the backend's and the strategy's ``on_run_end`` (thread settings, a process
    group, a cluster). Other components were only built, not started. Writes nothing."""
    for kind in ("backend", "strategy"):  # the reverse of the order they were set up in
        method = getattr(run.components.get(kind), "on_run_end", None)
        if not callable(method):
            continue
        try:
            accepted = inspect.signature(method).parameters
        except (TypeError, ValueError):
            continue
        offered = {"run": run, "status": RunStatus(status)}
        with contextlib.suppress(Exception):
            method(**{name: value for name, value in offered.items() if name in accepted})
    if run.checkpoints is not None:
        with contextlib.suppress(Exception):
            run.checkpoints.close()


def _export_models(run: Run) -> None:
    """The final model, and the best one where the backend writes it only now (``export_as_of``);
    then the backend's test split, evaluated on the final model and logged (``final_test``).

    Every process exports (a sharded model is gathered); backends write on the main one.
    A failed write follows ``checkpoint.on_error``; only models written are named. A test
    evaluation that raises fails the run, with the models already written.
    """
    backend = run.backend
    if backend is None or not run._loop.export:
        return
    directory = run.dir / "model"
    exports: dict[str, Callable[[], Path | None]] = {"final": lambda: backend.export(directory, "final")}
    deferred = export_as_of(backend)
    if deferred is not None and run.best.get("step") is not None:
        best_step = int(run.best["step"])
        exports["best"] = lambda: deferred(directory, "best", best_step)
    for tag, export in exports.items():
        try:
            path = export()
        except Exception as exc:
            write_failed(run, f"could not write the {tag} model to {directory}: {describe(exc)}",
                         f"the run has no {tag} model")
            continue
        if path is not None and run.is_main_process:
            run.exports[tag] = str(path)
    test = final_test(backend)
    metrics = test(run) if test is not None else None
    if metrics:
        run.log(metrics)


def _write_summary(run: Run) -> dict[str, Any]:
    """Write ``summary.json``; if that fails, say why on stderr (and fail the run under
    ``checkpoint.on_error = "fail"``) and leave no summary of an earlier attempt behind."""
    summary = run.summary()
    if not run.is_main_process:
        return summary
    message = write_record(run.dir / rundir.SUMMARY_FILE, summary)
    if message is not None:
        if run.spec.checkpoint.on_error == "fail" and run.status is not RunStatus.FAILED:
            run._loop.end(RunStatus.FAILED, message, exit_code=EXIT_FAILED)
        run.warn(f"{message}; this output is the only record of how the run ended")
    return summary


def build_storage(spec: Spec, directory: Path) -> Any:
    configured = spec.components["storage"]
    assert isinstance(configured, Configured)
    url = configured.options.url or str(directory / "checkpoints")
    return configured.component.build(attrs.evolve(configured.options, url=url))


def _write_records(run: Run, write_spec: bool) -> None:
    if write_spec or not (run.dir / rundir.SPEC_FILE).exists():
        rundir.write_spec(run.dir, run.spec)
    rundir.write_atomic(run.dir / rundir.ENV_FILE, environment.record_json(run))


def _build_components(run: Run) -> None:
    for kind, selected in run.spec.components.items():
        if kind == "storage" or selected is None:
            continue
        if isinstance(selected, list):
            run.components[kind] = [_build(item) for item in selected]
        else:
            run.components[kind] = _build(selected)
    run._backend = run.components["backend"]
    assert run.backend is not None
    strategy = run.components.get("strategy")
    if strategy is None and run.world_size > 1:
        raise EngineError(f"this process is one of {run.world_size} (WORLD_SIZE) but the spec selects no "
                          "strategy, so each would train alone", where="strategy",
                          fix='add [strategy] use = "ddp" (or "fsdp"), or launch one process')
    if strategy is not None and callable(getattr(strategy, "setup", None)):
        strategy.setup(run)  # before the backend: it joins the processes the backend's model spans
    run._processes = _processes(run, strategy)
    run.backend.setup(run)


def _processes(run: Run, strategy: Any) -> Processes:
    """The strategy's :class:`Processes` (its ``processes(run)``, read once it is set up), or the
    launcher's environment as the run started with: a single process, no collectives."""
    provide = getattr(strategy, "processes", None)
    if not callable(provide):
        return run.processes
    provided = provide(run)
    if not isinstance(provided, Processes):
        raise TypeError(f"the strategy's processes(run) returned {type(provided).__name__}, not engine.Processes")
    return provided


def _build(configured: Configured) -> Any:
    component = configured.component
    try:
        built = component.build(configured.options)
    except EngineError:
        raise
    except Exception as exc:
        raise UserCodeError(
            f"building {configured.component.kind} {configured.name!r} "
            f"({configured.component.distribution}) raised {type(exc).__name__}: {exc}",
            where=configured.path, user_traceback=traceback.format_exc(),
        ) from None
    # its hooks are refused now, before anything is written (and by ``engine check``)
    check_hooks(built, f"{component.kind} {configured.name!r} ({component.distribution})",
                events_only=component.kind == "tracker")
    return built


def _run_plugins(run: Run) -> list[tuple[str, object, str]]:
    """Components and per-run built-ins to register for this run: (name, plugin, origin)."""
    out: list[tuple[str, object, str]] = []
    for kind, selected in sorted(run.spec.components.items(), key=lambda item: item[0] != "backend"):
        built = run.components.get(kind)
        if built is None or kind == "storage":
            continue
        chosen = selected if isinstance(selected, list) else [selected]
        items = list(zip(built if isinstance(built, list) else [built], chosen, strict=True))
        for index, (plugin, configured) in enumerate(items):
            assert isinstance(configured, Configured)
            name = f"{kind}[{index}]" if isinstance(built, list) else kind
            origin = f"{kind} {configured.name!r} from {configured.component.distribution}"
            if kind == "tracker":
                plugin = guard(plugin, f"{name} {configured.name!r}")
            out.append((name, plugin, origin))
    for pairs in run.hook.engine_run_plugins(run=run):
        out.extend((name, plugin, "built-in, for the run") for name, plugin in pairs or [])
    return out


def _unregister(plugins: Plugins, names: list[str]) -> None:
    for name in reversed(names):
        plugins.unregister(name)


def _failure(run: Run, exc: BaseException) -> EngineError:
    """Record a failure in the run and turn it into a one-line error."""
    control = run._loop
    if isinstance(exc, KeyboardInterrupt):
        control.interrupted = control.interrupted or int(signal.SIGINT)
        control.end(RunStatus.INTERRUPTED, control.stop_reason or "interrupted")
        return TrainingError("interrupted")
    control.end(RunStatus.FAILED)
    trace = "".join(traceback.format_exception(exc))
    with contextlib.suppress(OSError):
        log_name = ERROR_LOG if run.is_main_process else f"error-rank{run.rank}.log"
        rundir.write_atomic(run.dir / log_name, redact_text(trace))  # whole, or none on a full disk
    if isinstance(exc, EngineError):
        control.end(RunStatus.FAILED, redact_text(str(exc)))
        return exc
    plugin = run.plugins.blame(exc)
    if plugin is not None:
        message = (f"plugin {plugin!r} ({run.plugins.origin(plugin)}) raised "
                   f"{type(exc).__name__}: {exc}")
    else:
        message = f"training failed at step {run.step}: {type(exc).__name__}: {exc}"
    message = redact_text(message)
    control.end(RunStatus.FAILED, message)
    log_name = ERROR_LOG if run.is_main_process else f"error-rank{run.rank}.log"
    return TrainingError(message, fix=f"the traceback is in {run.dir / log_name}")


def _exit_code(run: Run, error: EngineError | None = None) -> int:
    if run.status is RunStatus.INTERRUPTED:
        return EXIT_SIGTERM if run._loop.interrupted == signal.SIGTERM else EXIT_SIGINT
    if run.status is RunStatus.FAILED:
        # a mistake the user can fix (a checkpoint that does not fit the spec) keeps its status 2
        return error.exit_code if error is not None and error.exit_code == EXIT_USAGE else EXIT_FAILED
    return EXIT_OK


@contextlib.contextmanager
def _signals_stop(run: Run) -> Iterator[None]:
    """SIGINT and SIGTERM stop the run at the next step boundary instead of killing it."""
    def handler(signum: int, _frame: object) -> None:
        if run._loop.interrupted:  # a second signal: stop now
            raise KeyboardInterrupt
        run._loop.interrupted = signum

    previous: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        for stopping in (signal.SIGINT, signal.SIGTERM):
            previous[stopping] = signal.signal(stopping, handler)
    try:
        yield
    finally:
        for restored, old in previous.items():
            signal.signal(restored, old)
