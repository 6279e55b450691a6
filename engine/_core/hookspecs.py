"""Hook specifications: the whole contract between the engine and its plugins.

A plugin is a module or object whose functions implement the specs below. One rule holds
for every plugin (a module, a component such as a backend or a tracker, a run plugin): each
function or method named ``on_*`` or ``engine_*`` implements the hook of that name, marked
with ``@engine.hookimpl`` or not; the marker adds options (``tryfirst``, ``trylast``,
``wrapper``, ``specname``). Implement only the hooks you need, and only with the arguments
you need: arguments are passed by name, so ``def on_resume(self, run): ...`` is a valid
implementation. A name that is no hook (``on_evaluate``) or an argument the hook does not
pass is refused when the plugin is registered, in one line naming the plugin. Methods the
loop calls directly (``train_step``, ``evaluate``, ``state_dict``, ...) are not hooks.

There are two kinds of hooks.

**Registration hooks** (``engine_*``) run once, when the plugin manager is set up, before any
spec is read: they declare named components, spec sections and CLI commands.

**Events** (``on_*``) are broadcast to every implementation while a run is alive. They receive
the :class:`engine._core.run.Run`, which carries the state (``run.step``, ``run.epoch``,
``run.metrics``, ``run.spec``, ``run.dir``) and the actions (``run.log(...)``,
``run.stop(reason)``, ``run.request_checkpoint()``). Their return values are ignored.
Components configured in the spec (a tracker, a scheduler, ...) are registered as plugins
for the run's lifetime, so a component receives events by implementing them as methods.

Where each event fires, as pseudocode of :func:`engine._core.loop.train`::

    on_run_start(run)
    if resuming:
        restore every participant from the newest committed checkpoint
        on_resume(run, checkpoint)
    try:
        while not run.should_stop:
            if run.step_in_epoch == 0:
                on_epoch_start(run)
            backend.train_step(run)              # one optimizer step / one boosting round;
                                                 # a backend with an optimizer, within it:
                on_before_optimizer_step(run, optimizer)  # gradients ready, not yet applied
            run.step += 1
            on_step(run)
            if log is due:                       # "log_every"
                on_log(run, metrics, step)       # training metrics reach the host only here
            if eval is due:                      # "eval_every", in steps, epochs or time
                metrics = backend.evaluate(run)
                on_log(run, metrics, step)
                on_eval(run, metrics)            # early stopping and pruning decide here
            if the epoch is complete:
                on_epoch_end(run); run.epoch += 1
            if a limit is reached: run.stop(...)  # max_steps, max_epochs, max_time
            if checkpoint is due, requested, or the run is stopping:
                save every participant's state, commit the manifest
                on_checkpoint(run, checkpoint)
    except BaseException as exc:
        on_exception(run, exc)
        raise
    finally:
        on_run_end(run, status)                  # always, with "completed", "stopped",
                                                 # "failed" or "interrupted"

Plugins that keep state across a resume implement two plain methods (not hooks):
``state_dict() -> dict`` and ``load_state_dict(state: dict) -> None``. The state holds
JSON values and ``bytes`` only; the engine stores it without pickle. A bytes value may be
deferred: an object with ``__bytes__``, a private host copy that becomes bytes later, in the
background; the plugin must not change it after ``state_dict`` returns. The state is stored
under the plugin's ``state_key`` (an optional class attribute or property, a string), else
under the name it is registered under; two plugins with one key are refused when the run starts.
On resume, a plugin the checkpoint holds no state for starts fresh (a notice names it); no
state for the backend or the loop is an error.

Order between implementations is never registration order: use ``tryfirst``/``trylast``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from engine._core.checkpoint.manifest import CheckpointInfo
    from engine._core.cli.commands import CommandRegistry
    from engine._core.components import ComponentRegistry
    from engine._core.run import Run
    from engine._core.spec.model import Spec

hookspec = pluggy.HookspecMarker("engine")
#: Marker for hook implementations; public as ``engine.hookimpl``.
hookimpl = pluggy.HookimplMarker("engine")


# --------------------------------------------------------------------------- registration


@hookspec
def engine_register_components(registry: ComponentRegistry) -> None:
    """Declare the named components this plugin provides.

    Call ``registry.add(kind, name, factory, options=OptionsClass, description=...)`` for
    each. ``kind`` is one of ``backend``, ``strategy``, ``precision``, ``scheduler``,
    ``tracker``, ``storage`` (or a kind another plugin declared with
    ``registry.add_kind``). ``factory`` is a callable or an import path
    ``"package.module:Class"``; an import path keeps heavy libraries unimported until a spec
    selects the component. It is called with one argument, the structured options instance.

    ``registry.add_section(name, options)`` declares a top-level spec section such as
    ``[tune]``.

    Two plugins adding the same kind and name is an error naming both distributions.
    """


@hookspec
def engine_add_commands(commands: CommandRegistry) -> None:
    """Add sub-commands to the ``engine`` CLI.

    Call ``commands.add(name, help=..., configure=..., handler=...)``: ``configure`` receives
    the sub-command's ``argparse`` parser; ``handler(args, session)`` runs it and returns the
    exit status. Keep imports inside the handler so ``engine --help`` stays fast.
    """


@hookspec
def engine_configure_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Add options to command ``name`` (the core's ``run``, ``check``, ... or another plugin's).

    Called once per command, after the command's own ``configure``: check ``name`` and add
    arguments to ``parser`` (engine-distributed adds ``--nproc`` to ``run``). Act on them in
    ``engine_command_main``. Declare each option in your distribution's ``engine.provides``
    entry points as ``option.<command>.<option>`` (see docs/plugins.md): where your plugin
    is not installed, the option is then answered with its install command.
    """


@hookspec(firstresult=True)
def engine_command_main(name: str, args: argparse.Namespace) -> int | None:
    """Take over command ``name`` before its handler runs; return its exit status or ``None``.

    The first implementation to return an ``int`` ends the command with that status and the
    command's own handler does not run (engine-distributed runs ``engine run --nproc N`` as N
    processes under torchrun this way); ``None`` lets the command go on. ``args`` is the
    parsed command line and ``args.argv`` the command line as given. An ``EngineError``
    raised here is reported as one line, like any command's.
    """


@hookspec
def engine_run_plugins(run: Run) -> list[tuple[str, object]] | None:
    """Return ``(name, plugin)`` pairs to register for this run only.

    Use it for per-run state (a console, an early-stopping counter): the objects receive
    events like any plugin, go into checkpoints if they have ``state_dict`` and
    ``load_state_dict``, and are unregistered when the run ends. Checkpoints store the state
    under the object's ``state_key`` if it declares one, else under the name: keep it stable
    across runs of the same spec. Called after the
    components are built and before ``on_run_start``.
    """


@hookspec
def engine_check(spec: Spec) -> list[str] | None:
    """Return problems with the spec that no single options class can see.

    Called by ``engine check`` and before every run, after each section is structured.
    Use it for combinations (a precision mode the selected backend cannot use, a search
    space path that does not exist). Return one line per problem, each naming the key path
    and the fix, or ``None``.
    """


@hookspec
def engine_environment() -> dict[str, Any] | None:
    """Return facts for the run's ``env.json`` that the core cannot see, or ``None``.

    Called for every run (every fold, every trial) when it writes ``env.json``, after its
    components are built. The core already records every installed distribution's version,
    the Python build, OS, CPU, the NVIDIA driver and GPU models; add what only your library
    knows, under a key of your own: ``{"torch": {"cuda": "12.4", "cudnn": 90100, ...}}``
    (the dicts of all plugins are merged under ``runtime``). Keep it cheap and harmless:
    never import a heavy library or initialise a device just for the record (answer only
    when the run already imported it: ``sys.modules.get("torch")``). A plugin that raises
    is a warning, not a failed run.
    """


# --------------------------------------------------------------------------- events


@hookspec
def on_run_start(run: Run) -> None:
    """The run directory exists and every component is built; no step has run yet.

    On a resumed run this fires before the state is restored; ``on_resume`` follows.
    """


@hookspec
def on_resume(run: Run, checkpoint: CheckpointInfo) -> None:
    """Every participant's state was restored from ``checkpoint``.

    ``run.step`` and ``run.epoch`` are the restored values: the next step is
    ``run.step + 1``.
    """


@hookspec
def on_epoch_start(run: Run) -> None:
    """An epoch is about to begin (``run.epoch`` is its zero-based index).

    Not repeated for an epoch that a resume re-enters in the middle.
    """


@hookspec
def on_step(run: Run) -> None:
    """One training step finished; ``run.step`` counts it.

    For PyTorch a step is one optimizer step (after gradient accumulation); for boosted
    trees, one boosting round. This fires every step: keep it cheap, and do not force a
    device sync here. Training metrics are in ``on_log`` at the log cadence.
    """


@hookspec
def on_before_optimizer_step(run: Run, optimizer: Any) -> None:
    """The gradients of the coming step are complete; the optimizer has not used them yet.

    Fired inside ``backend.train_step`` by backends that have an optimizer (the torch
    backend; boosted trees have none), once per optimizer step: after the backward pass of
    every accumulated micro-batch, after the gradients are unscaled (a ``16-mixed``
    gradient scaler), before they are clipped (``clip_norm``, ``clip_value``) and before
    ``optimizer.step()``. ``run.step`` still counts the steps taken before: this is step
    ``run.step + 1``, and ``on_step`` follows it. Each parameter's ``.grad`` is readable
    (gradient norms, histograms); under a gradient scaler a step it will skip still fires,
    with its non-finite gradients. ``optimizer`` is the backend's own (for torch, a
    ``torch.optim.Optimizer``).

    It fires every step, so a backend fires it only when some plugin implements it: a run
    without one pays nothing. Keep it cheap (compute on the device, sync at your own cadence).
    """


@hookspec
def on_log(run: Run, metrics: dict[str, float], step: int) -> None:
    """Metrics were logged at ``step``: training metrics at the log cadence, evaluation
    metrics at the eval cadence, and anything a plugin passed to ``run.log``.

    Trackers implement this. Names are ``train/<metric>``, ``val/<metric>`` and, for the
    learning rate, ``lr``.
    """


@hookspec
def on_eval(run: Run, metrics: dict[str, float]) -> None:
    """An evaluation finished with ``metrics`` (``val/loss``, ``val/accuracy``, ...).

    Early stopping, ``save_top_k`` and pruners decide here; call ``run.stop(reason)`` to end
    the run after this step.
    """


@hookspec
def on_checkpoint(run: Run, checkpoint: CheckpointInfo) -> None:
    """A checkpoint was committed (its manifest written); ``checkpoint.name`` and
    ``checkpoint.url`` locate it."""


@hookspec
def on_epoch_end(run: Run) -> None:
    """The epoch ``run.epoch`` completed; evaluation for this epoch has already fired."""


@hookspec
def on_run_end(run: Run, status: str) -> None:
    """The run ended; always called, also after an exception.

    ``status`` is ``"completed"`` (a limit was reached), ``"stopped"`` (a plugin or early
    stopping asked), ``"failed"`` or ``"interrupted"`` (SIGINT/SIGTERM).
    ``run.stop_reason`` says why.
    """


@hookspec
def on_exception(run: Run, exception: BaseException) -> None:
    """Training raised ``exception``; ``on_run_end`` follows with status ``"failed"``.

    Use it to flush or mark external records (a tracker run, a tuning trial) as failed.
    """


def event_names() -> list[str]:
    """Names of the event hooks, in the order they are documented."""
    return [name for name in globals() if name.startswith("on_")]


def _all_specs() -> dict[str, Any]:
    return {name: fn for name, fn in globals().items() if name.startswith(("on_", "engine_"))}
