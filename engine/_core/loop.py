"""The training loop: cadence, limits, stopping and the order of events (see hookspecs)."""

from __future__ import annotations

import math
import random
import time
from typing import Any

from engine._core.backend import finite_check
from engine._core.cadence import Every
from engine._core.checkpoint.manager import SaveFailure
from engine._core.checkpoint.manifest import CheckpointInfo
from engine._core.checkpoint.participants import by_state_key
from engine._core.errors import CheckpointError, TrainingError
from engine._core.run import Run
from engine._core.status import RunStatus
from engine._core.storage_policy import describe, write_failed

_NEVER, _STEPS, _EPOCHS, _SECONDS = 0, 1, 2, 3


class Cadence:
    """Decides, at the end of each step, whether an every-N action is due."""

    __slots__ = ("count", "kind", "last", "seconds")

    def __init__(self, every: Every | None):
        self.kind = _NEVER
        self.count = 0
        self.seconds = 0.0
        self.last = time.monotonic()
        if every is None:
            return
        if every.unit == "steps":
            self.kind, self.count = _STEPS, int(every.count)
        elif every.unit == "epochs":
            self.kind, self.count = _EPOCHS, int(every.count)
        else:
            self.kind, self.seconds = _SECONDS, float(every.count)

    def due(self, step: int, epochs_done: int, epoch_ended: bool, now: float) -> bool:
        kind = self.kind
        if kind == _STEPS:
            return step % self.count == 0
        if kind == _EPOCHS:
            return epoch_ended and epochs_done % self.count == 0
        if kind == _SECONDS and now - self.last >= self.seconds:
            self.last = now
            return True
        return False


class PythonRandomState:
    """Python's ``random`` module state as a checkpoint participant."""

    def state_dict(self) -> dict[str, Any]:
        version, internal, gauss = random.getstate()
        return {"version": version, "internal": list(internal), "gauss": gauss}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        random.setstate((state["version"], tuple(state["internal"]), state["gauss"]))


def participants(run: Run) -> dict[str, Any]:
    """Everything whose state goes into a checkpoint, by stable name."""
    found: dict[str, Any] = {"loop": run._loop, "rng:python": PythonRandomState()}
    for name, plugin in run.plugins.pm.list_name_plugin():
        if plugin is not None and callable(getattr(plugin, "state_dict", None)) \
                and callable(getattr(plugin, "load_state_dict", None)) and not isinstance(plugin, type):
            found[name] = plugin
    return found


def save_checkpoint(run: Run) -> None:
    """Snapshot every participant at the current step and commit it (possibly in the background)."""
    assert run.checkpoints is not None
    control = run._loop
    if not run.is_main_process:  # only the main process writes; others take part if collective
        if run.processes.collective_checkpoints:
            run.checkpoints.snapshot(participants(run), step=run.step)
        control.last_checkpoint_step = run.step
        return
    run.checkpoints.submit(participants(run), step=run.step, epoch=run.epoch, metrics=dict(run.metrics))
    control.last_checkpoint_step = run.step
    report_saves(run, run.checkpoints.finished())


def report_saves(run: Run, results: list[CheckpointInfo | SaveFailure]) -> None:
    """Fire ``on_checkpoint`` for committed saves; apply ``checkpoint.on_error`` to failed ones."""
    for result in results:
        if isinstance(result, CheckpointInfo):
            run.hook.on_checkpoint(run=run, checkpoint=result)
            continue
        assert run.checkpoints is not None
        write_failed(run, f"could not write the checkpoint of step {result.step} to "
                          f"{run.checkpoints.storage.url}: {describe(result.error)}",
                     "training goes on and the next checkpoint tries again")


def fail(run: Run, reason: str) -> None:
    """End the run as failed after this step, whatever stop was asked for before."""
    run._loop.end(RunStatus.FAILED, reason)


def non_finite_loss(run: Run, metrics: dict[str, float]) -> bool:
    """Apply ``loop.on_nan``: True, and the run failed, when a loss in ``metrics`` is NaN or inf."""
    if run.spec.loop.on_nan == "stop":
        for name, value in metrics.items():
            if "loss" in name and not math.isfinite(value):
                fail(run, f"{name} became {value} by step {run.step}")
                return True
    return False


def collect_train_metrics(run: Run) -> None:
    """Bring training metrics to the host, log them, and apply the non-finite loss policy."""
    assert run.backend is not None
    metrics = run.backend.train_metrics()
    if metrics:
        run.log(metrics)
        non_finite_loss(run, metrics)


def state_is_finite(run: Run) -> bool:
    """Whether the backend's weights and pending loss are finite, where it can tell
    (``is_finite``); if not, under ``loop.on_nan = "stop"``, the run fails."""
    check = finite_check(run.backend)
    if run.spec.loop.on_nan != "stop" or check is None or check():
        return True
    collect_train_metrics(run)  # names the loss when the loss is what went bad
    if run.status is not RunStatus.FAILED:
        fail(run, f"the model's weights became non-finite by step {run.step}")
    return False


def evaluate(run: Run) -> None:
    """Evaluate a finite model; a non-finite loss among the results fails the run."""
    assert run.backend is not None
    if not state_is_finite(run):
        return
    metrics = run.backend.evaluate(run)
    run._loop.last_eval_step = run.step
    run.log(metrics)
    if not non_finite_loss(run, metrics):
        run.hook.on_eval(run=run, metrics=metrics)


def last_good_checkpoint(run: Run) -> str:
    """Names the newest committed checkpoint (every one passed the non-finite checks)."""
    try:
        committed = run.checkpoints.committed(quiet=True) if run.checkpoints is not None else []
    except Exception:  # the storage is unreachable: say what is known without it
        return "the last good checkpoint is kept"
    return f"the last good checkpoint is {committed[-1].name}" if committed else "no good checkpoint was written"


def agree(run: Run, *due: bool) -> list[bool]:
    """Combine this process's decisions with every other's (any process wins): the cadences
    ``due``, and stop, signal, checkpoint and failure requests, which then hold on every one."""
    combine = run.processes.agree
    assert combine is not None
    control = run._loop
    flags = combine([*map(int, due), int(control.should_stop), control.interrupted,
                     int(control.checkpoint_requested), int(control.status is RunStatus.FAILED)])
    stop, interrupted, requested, failed = flags[len(due):]
    if failed and control.status is not RunStatus.FAILED:
        control.end(RunStatus.FAILED, None if control.should_stop else f"another process failed by step {run.step}")
    if stop and not control.should_stop:
        control.stop(f"another process stopped the run at step {run.step}")
    control.interrupted = control.interrupted or interrupted
    control.checkpoint_requested = control.checkpoint_requested or bool(requested)
    return [bool(flag) for flag in flags[:len(due)]]


def train(run: Run, *, resume: bool) -> None:
    """Run the loop until a limit, a stop request, a signal or a failure."""
    hook = run.hook
    backend = run.backend
    assert backend is not None
    loop = run.spec.loop
    control = run._loop  # the counters and stop bookkeeping plugins see read-only

    by_state_key(participants(run))  # two participants with one state_key: one error before anything starts
    hook.on_run_start(run=run)
    if resume:
        assert run.checkpoints is not None
        info = run.checkpoints.load_latest(participants(run))
        if info is None:
            raise CheckpointError("no usable checkpoint to resume from (all were damaged)",
                                  where=run.checkpoints.storage.url,
                                  fix="start a new run (another run.name or --run-dir)")
        control.last_checkpoint_step = control.resumed_from = control.step
        hook.on_resume(run=run, checkpoint=info)

    log_every, eval_every = Cadence(loop.log_every), Cadence(loop.eval_every)
    checkpoint_every = Cadence(loop.checkpoint_every)
    limit = run.step_limit
    max_time = loop.max_time
    steps_per_epoch = backend.steps_per_epoch
    train_step = backend.train_step
    # Per-step fast path: skip hooks nobody implements, and skip the cadence checks until
    # the next step at which something can be due.
    on_step = hook.on_step if hook.on_step.get_hookimpls() else None
    on_epoch_start = hook.on_epoch_start if hook.on_epoch_start.get_hookimpls() else None
    cadences = (log_every, eval_every, checkpoint_every)
    # An epoch's end takes the full path only where something happens at it: an epoch cadence
    # or an epoch hook. Otherwise it is counted on the fast path (a boosting round is an epoch).
    epochs_observed = any(c.kind == _EPOCHS for c in cadences) or bool(hook.on_epoch_end.get_hookimpls())
    every_step = [c.count for c in cadences if c.kind == _STEPS]
    # Several processes take every decision at the same step: they agree only at boundaries.
    processes = run.processes
    synced = processes.agree is not None
    if synced and processes.sync_every > 0:
        every_step.append(processes.sync_every)
    clocked = max_time is not None or any(c.kind == _SECONDS for c in cadences)

    def next_due(after: int) -> float:
        return min([(after // count + 1) * count for count in every_step] + [limit])

    if control.step >= limit:
        control.end(RunStatus.COMPLETED, "the step limit was already reached")
    upcoming = next_due(control.step)

    agreed = True  # several processes leave the loop only on a stop they agreed on
    while not control.should_stop or not agreed:
        agreed = not synced
        if control.step_in_epoch == 0 and on_epoch_start is not None:
            on_epoch_start(run=run)
        train_step(run)
        control.step = step = control.step + 1
        control.step_in_epoch += 1
        if on_step is not None:
            on_step(run=run)
        if (step < upcoming and not clocked
                and (control.step_in_epoch < steps_per_epoch or not epochs_observed)
                and (synced or (not control.interrupted and not control.should_stop
                                and not control.checkpoint_requested))):
            if control.step_in_epoch >= steps_per_epoch:  # an epoch ended that nothing observes
                control.epoch += 1
                control.step_in_epoch = 0
            continue
        upcoming = next_due(step)
        if run.checkpoints is not None and run.checkpoints.busy:
            report_saves(run, run.checkpoints.finished())

        epoch_ended = control.step_in_epoch >= steps_per_epoch
        epochs_done = control.epoch + 1
        now = time.monotonic()
        log_due = log_every.due(step, epochs_done, epoch_ended, now)
        eval_due = eval_every.due(step, epochs_done, epoch_ended, now)
        checkpoint_due = checkpoint_every.due(step, epochs_done, epoch_ended, now)
        time_up = max_time is not None and control.elapsed >= max_time
        if synced:
            log_due, eval_due, checkpoint_due, time_up = agree(run, log_due, eval_due, checkpoint_due, time_up)
            agreed = True
        if log_due:
            collect_train_metrics(run)
        if eval_due and control.status is not RunStatus.FAILED:
            evaluate(run)
        if epoch_ended:
            hook.on_epoch_end(run=run)
            control.epoch += 1
            control.step_in_epoch = 0

        if control.status is not RunStatus.FAILED:
            # a limit ends the run as completed, whatever stop was asked for at this step
            if step >= limit:
                reached = f"reached {'max_steps' if loop.max_steps == step else 'max_epochs'} at step {step}"
                control.end(RunStatus.COMPLETED, None if control.should_stop else reached)
            elif time_up:
                reached = f"reached max_time ({max_time:g}s) at step {step}"
                control.end(RunStatus.COMPLETED, None if control.should_stop else reached)
        # A signal pauses a run that would go on: it adds no evaluation and no record, only a
        # checkpoint of the state, so the resumed run goes on as if it had never stopped.
        if control.interrupted and not control.should_stop:
            control.end(RunStatus.INTERRUPTED, f"interrupted by signal {control.interrupted} at step {step}")
        preempted = control.status is RunStatus.INTERRUPTED

        if control.should_stop and control.status is not RunStatus.FAILED and not preempted:
            collect_train_metrics(run)
            if (loop.eval_every is not None and control.last_eval_step != step
                    and control.status is not RunStatus.FAILED):
                evaluate(run)
        if control.status is RunStatus.FAILED:
            break
        due = checkpoint_due or control.checkpoint_requested
        if due or (control.should_stop and run.spec.checkpoint.on_exit):
            if due or not preempted:
                collect_train_metrics(run)  # as at every checkpoint the run takes uninterrupted
            # no checkpoint of a non-finite loss or model is committed
            if control.status is RunStatus.FAILED or not state_is_finite(run):
                break
            control.checkpoint_requested = False
            save_checkpoint(run)

    if run.checkpoints is not None:
        report_saves(run, run.checkpoints.drain())
        unsaved = run.checkpoints.every_save_failed
        if unsaved is not None and control.status not in (RunStatus.FAILED, RunStatus.INTERRUPTED):
            raise TrainingError(f"no checkpoint was written: every save to {run.checkpoints.storage.url} "
                                f"failed, the last at step {unsaved.step}: {describe(unsaved.error)}",
                                fix="make the storage writable ('engine check' tries it before training)")
    if control.status is RunStatus.FAILED:
        control.end(RunStatus.FAILED, f"{control.stop_reason}; {last_good_checkpoint(run)}")
        raise TrainingError(control.stop_reason)
