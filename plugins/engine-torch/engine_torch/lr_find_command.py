"""``engine lr-find SPEC [--set K=V] [--min-lr 1e-7] [--max-lr 10] [--steps 100] [--output PNG]``.

The spec's model, data, optimizer and precision are set up as ``engine run`` sets them up
(``engine.session.prepared``), in one process and without a strategy or a scheduler; the
range test (:mod:`engine_torch.lr_find`) then trains that model. Nothing is written but the
PNG: no run directory, no checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shlex
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

from engine import EXIT_OK, EngineError, Run, Spec, TrainingError, UserCodeError
from engine.session import prepared, read, structure
from engine_torch.lr_find import RangeTest, range_test, toml_float
from engine_torch.lr_find_plot import INSTALL, draw, matplotlib_missing
from engine_torch.options import TorchOptions

if TYPE_CHECKING:
    from engine.session import Session
    from engine_torch.backend import TorchBackend

LR_PATH = "backend.optimizer.lr"


def lr_find_command(args: argparse.Namespace, session: Session) -> int:
    """Run the range test on the spec ``args.spec`` and report the suggested learning rate."""
    _check_arguments(args)
    raw = read(args.spec, args.set)
    spec = structure(raw, session)
    options = _torch_options(spec)
    output = Path(args.output or f"lr-find-{spec.run.name}.png")
    unused = [kind for kind in ("strategy", "scheduler") if spec.component(kind) is not None]
    if unused:
        print(f"engine: note: lr-find sets the rate itself in this one process; "
              f"{' and '.join(f'[{kind}]' for kind in unused)} not used", file=sys.stderr)
        spec = structure(raw.with_values({}, where="engine lr-find", drop=unused), session)
    optimizer = str(options.optimizer.get("use", "adamw"))
    with set_up_backend(spec) as backend:
        print(f"range test of {args.spec}: {optimizer}, {args.steps} steps from lr {args.min_lr:g} "
              f"to {args.max_lr:g}", flush=True)
        result = range_test(_stepper(backend, spec.run.seed), args.min_lr, args.max_lr, args.steps)
    if not any(math.isfinite(value) for value in result.smoothed):
        raise TrainingError(f"the loss of the first step was {result.losses[0]}, before any rate could act",
                            where="lr-find", fix="find what makes the model's training loss not finite (its data, its "
                                                  "initial weights): the sweep needs a finite loss to start from")
    _report(result, args)
    if matplotlib_missing():
        print(f"engine: warning: no plot written: matplotlib is not installed — {INSTALL}", file=sys.stderr)
    else:
        draw(result, output, f"{spec.run.name}: {optimizer}")
        print(f"wrote {output}")
    return EXIT_OK


def _check_arguments(args: argparse.Namespace) -> None:
    if not args.min_lr > 0:
        raise EngineError(f"{args.min_lr:g} is not a learning rate", where="--min-lr", fix="give a rate above 0")
    if not args.max_lr > args.min_lr:
        raise EngineError(f"{args.max_lr:g} is not above --min-lr {args.min_lr:g}", where="--max-lr",
                          fix="give a larger --max-lr (the sweep goes from --min-lr up to it)")
    if args.steps < 2:
        raise EngineError(f"{args.steps} steps cannot sweep a range", where="--steps",
                          fix="give 2 or more (100 is usual)")
    if args.output is not None and Path(args.output).suffix.lower() != ".png":
        raise EngineError(f"{args.output!r} is not a .png file", where="--output", fix="name the output FILE.png")


def _torch_options(spec: Spec) -> TorchOptions:
    backend = spec.component("backend")
    if backend is None or not isinstance(backend.options, TorchOptions):
        name = backend.name if backend is not None else "none"
        raise EngineError(f"lr-find sweeps the learning rate of a torch model; this spec's backend is {name!r}",
                          where="backend.use",
                          fix='use it with a spec whose backend.use = "torch" (for other backends, search '
                              "the learning rate with engine tune)")
    return backend.options


@contextlib.contextmanager
def set_up_backend(spec: Spec) -> Iterator[TorchBackend]:
    """The spec's torch backend as ``engine run`` sets it up (``engine.session.prepared``: model,
    data, optimizer, precision, one batch checked), in one process; given back on the way out."""
    with prepared(spec) as run:
        if run.world_size > 1:
            raise EngineError(f"this process is one of {run.world_size} (WORLD_SIZE); lr-find runs in one",
                              where="lr-find", fix="run engine lr-find without torchrun")
        yield cast("TorchBackend", run.backend)


class _Position:
    """What ``TorchBackend.train_step`` reads of a run: the seed and where the data is."""

    def __init__(self, seed: int, epoch: int, step_in_epoch: int):
        self.seed, self.epoch, self.step_in_epoch = seed, epoch, step_in_epoch


def _stepper(backend: TorchBackend, seed: int) -> Callable[[int, float], float]:
    """``step(index, lr)``: one optimizer step of the backend at ``lr`` (every parameter group
    keeps its ratio to the first), returning the step's training loss."""
    optimizer = backend.optimizer
    assert optimizer is not None
    first = backend.base_lrs[0] if backend.base_lrs and backend.base_lrs[0] > 0 else 0.0
    ratios = [base / first if first > 0 else 1.0 for base in backend.base_lrs]
    per_epoch = backend.steps_per_epoch

    def step(index: int, lr: float) -> float:
        for group, ratio in zip(optimizer.param_groups, ratios, strict=True):
            group["lr"] = lr * ratio
        position = _Position(seed, index // per_epoch, index % per_epoch)
        try:
            backend.train_step(cast(Run, position))
            return float(backend.train_metrics()["train/loss"])
        except EngineError:
            raise
        except Exception as exc:
            raise UserCodeError(f"step {index + 1} of the range test (lr {lr:.3g}) raised {type(exc).__name__}: {exc}",
                                where="backend", user_traceback=traceback.format_exc()) from None

    return step


def _report(result: RangeTest, args: argparse.Namespace) -> None:
    done = len(result.lrs)
    if result.stopped is not None:
        print(f"stopped at step {done} of {result.planned}: {result.stopped}")
    lowest = result.lowest
    print(f"lowest smoothed loss {result.smoothed[lowest]:.4g} at lr {result.lrs[lowest]:.3g}")
    suggestion = toml_float(result.suggestion)
    print(f"suggested learning rate: {suggestion} (one tenth of the rate at the lowest smoothed loss)")
    caveat = result.caveat()
    if caveat is not None:
        print(f"engine: warning: {caveat}", file=sys.stderr)
    kept = [item for item in args.set if not item.replace(" ", "").startswith(f"{LR_PATH}=")]
    words = ["engine", "run", args.spec, *(word for item in kept for word in ("--set", item)),
             "--set", f"{LR_PATH}={suggestion}"]
    print(f"to use it: {shlex.join(words)}")
