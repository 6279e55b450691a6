"""The ``torch`` backend: one step is one optimizer step over ``accumulate`` micro-batches."""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine import EngineError, Run, hookimpl, pool_error, warn_parallelism
from engine_torch import activation_checkpointing, batch_finder, export, state
from engine_torch.data import DatasetBatches, LoaderBatches, batch_fetcher, batches_of, cast_floating, to_device
from engine_torch.data_checks import check_splits
from engine_torch.device import make_deterministic, resolve_device
from engine_torch.losses import make_forward, make_step_forward, model_outputs, shape_of, split
from engine_torch.metrics import Metric, metric_factories, short_name
from engine_torch.optim import build_optimizer
from engine_torch.options import AUTO, MODEL_LOSS, TorchOptions, parse_bytes
from engine_torch.precision import TorchPrecision
from engine_torch.strategy import OwnedStep, TorchStrategy
from engine_torch.sys_metrics import SystemMeter
from engine_torch.usercode import call, resolve

WHERE = "backend"
#: Training losses are kept as device scalars and summed on the device every this many steps.
_FOLD_LOSSES = 256


class TorchBackend:
    """Trains a ``torch.nn.Module``; see :class:`engine_torch.options.TorchOptions`."""

    def __init__(self, options: TorchOptions):
        self.options = options
        self.device = torch.device("cpu")
        self.precision: TorchPrecision | None = None
        self.module: torch.nn.Module = torch.nn.Module()
        self.optimizer: torch.optim.Optimizer | None = None
        self.scaler: torch.amp.GradScaler | None = None
        self.base_lrs: list[float] = []
        self.train_batches: DatasetBatches | LoaderBatches | None = None
        self.val_batches: DatasetBatches | LoaderBatches | None = None
        self.test_batches: DatasetBatches | LoaderBatches | None = None
        self.forward: Callable[[Any], tuple[torch.Tensor, Any, Any]] = _unset
        self.metrics: list[Callable[[torch.device], Metric]] = []
        self.schedule: Callable[[Run], float] | None = None
        #: The distributed strategy (``[strategy]``), see :mod:`engine_torch.strategy`.
        self.strategy: TorchStrategy | None = None
        #: The strategy again when it owns backward passes and optimizer steps (deepspeed).
        self._owner: OwnedStep | None = None
        self._steps_per_epoch = 1
        self._losses: list[torch.Tensor] = []
        self._loss_count = 0
        self._batches: Iterator[Any] = iter(())
        self._epoch = -1
        self._position = -1
        self._simple = False
        self._saved_settings: tuple[int, bool] | None = None
        #: ``on_before_optimizer_step``'s caller, only while some plugin implements it.
        self._before_optimizer_step: Callable[..., Any] | None = None
        #: Host copies of the state, reused from one checkpoint to the next (see state_dict).
        self._host = {part: state.HostBuffers() for part in ("model", "optimizer", "pending_losses")}
        #: ``sys/*`` metrics: rows, tokens and time of the steps since the last log.
        self._meter = SystemMeter(self.device)

    @property
    def model(self) -> torch.nn.Module:
        """The trained module (not its compiled wrapper): what trackers read for histograms."""
        return self.module

    # ------------------------------------------------------------------ setup

    def setup(self, run: Run) -> None:
        self._saved_settings = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
        try:
            self._setup(run)
        except BaseException:
            self.on_run_end()  # not registered yet: give the settings back here
            raise

    def _setup(self, run: Run) -> None:
        o = self.options
        warn_parallelism(run, {"threads": o.threads, "num_workers": o.num_workers}, where=WHERE)
        if o.threads:
            _set_threads(o.threads)
        if o.deterministic:
            make_deterministic()
        self.device = resolve_device(o.device, f"{WHERE}.device")
        self.strategy = _strategy_of(run)
        if self.strategy is not None:
            self.device = self.strategy.place(self.device)
        self.precision = run.components.get("precision")
        if self.precision is not None:
            self.precision.check_device(self.device)
            advice = getattr(self.precision, "advice", None)
            message = advice(self.device) if callable(advice) else None
            if message:
                run.warn(message)
        self._meter = SystemMeter(self.device)
        seed_everything(run.seed)

        self.module = self.build_model()
        activation_checkpointing.apply(self.module, o.activation_checkpointing, f"{WHERE}.activation_checkpointing")
        self._build_data(run)
        trained = self.strategy.wrap(self.module) if self.strategy is not None else self.module
        self.metrics = metric_factories(o.metrics, WHERE)
        if o.step is None:
            self._probe(make_forward(self.module, o.loss, WHERE))

        self.optimizer = build_optimizer(o.optimizer, self.module, decay_bias_and_norm=o.decay_bias_and_norm,
                                         where=WHERE)
        self.base_lrs = [float(group["lr"]) for group in self.optimizer.param_groups]
        self._owner = self.strategy if isinstance(self.strategy, OwnedStep) else None
        if self._owner is not None:
            trained = self._owner.prepare(trained, self.optimizer)
        model: Any = torch.compile(trained) if o.compile else trained
        if o.step is not None:
            self.forward = make_step_forward(o.step, model, WHERE)
        else:
            self.forward = make_forward(model, o.loss, WHERE)
        scaler = self.precision.grad_scaler(self.device) if self.precision is not None else None
        self.scaler = scaler if self._owner is None else None
        factor = getattr(run.components.get("scheduler"), "factor", None)
        self.schedule = factor if callable(factor) else None
        self._simple = (self._owner is None and o.accumulate == 1 and self.scaler is None and o.clip_norm is None
                        and o.clip_value is None and self.device.type == "cpu" and not o.pin_memory
                        and (self.precision is None or (self.precision.param_dtype is None
                                                        and self.precision.autocast(self.device) is None)))
        self.module.train()

    # ------------------------------------------------------------------ extension points
    # A backend built on this one (engine-transformers) overrides these four; nothing else here.

    def build_model(self) -> torch.nn.Module:
        """The module to train, on ``self.device`` (default: the ``model`` import path called
        with ``model_args``)."""
        return self._build_model()

    def load_splits(self, run: Run) -> dict[str, Any]:
        """``{"train": ..., "val": ..., "test": ...}`` (datasets or DataLoaders; ``test``
        optional) (default: the ``data`` import path called with ``data_args``)."""
        o = self.options
        function = resolve(o.data, f"{WHERE}.data")
        return call(function, f"data {o.data!r}", **dict(o.data_args))  # type: ignore[no-any-return]

    def model_state(self) -> dict[str, torch.Tensor]:
        """The model's tensors a checkpoint holds (default: all of ``state_dict()``)."""
        return self.module.state_dict()

    def load_model_state(self, tensors: dict[str, torch.Tensor], where: str) -> None:
        """Load what :meth:`model_state` saved; a mismatch is a :class:`CheckpointError` at ``where``."""
        state.load_model_state(self.module, tensors, where)

    def _build_model(self) -> torch.nn.Module:
        o = self.options
        factory = resolve(o.model, f"{WHERE}.model")
        module = call(factory, f"model {o.model!r}", **o.model_args)
        if not isinstance(module, torch.nn.Module):
            raise EngineError(f"model {o.model!r} returned {type(module).__name__}, not a torch.nn.Module",
                              where=f"{WHERE}.model",
                              fix="point model at an nn.Module class or a factory returning one")
        module = module.to(self.device)
        if self.precision is not None and self.precision.param_dtype is not None:
            module = module.to(self.precision.param_dtype)
        return module

    def _build_data(self, run: Run) -> None:
        o = self.options
        sets = self.load_splits(run)
        if not isinstance(sets, dict) or "train" not in sets or "val" not in sets:
            got = sorted(sets) if isinstance(sets, dict) else type(sets).__name__
            raise EngineError(f"data {o.data!r} returned {got}; expected a dict with 'train', 'val' "
                              "and optionally 'test'", where=f"{WHERE}.data",
                              fix='return {"train": Dataset, "val": Dataset}')
        if o.batch_size == AUTO:
            self._choose_batch_size(run, sets["train"])
        common: dict[str, Any] = {"num_workers": o.num_workers, "pin_memory": o.pin_memory}
        self.train_batches = batches_of(sets["train"], batch_size=o.batch_size, shuffle=o.shuffle,
                                        drop_last=o.drop_last, name="train", **common)
        eval_size = o.eval_batch_size or o.batch_size
        self.val_batches = batches_of(sets["val"], batch_size=eval_size, shuffle=False, drop_last=False,
                                      name="val", **common)
        if sets.get("test") is not None:
            self.test_batches = batches_of(sets["test"], batch_size=eval_size, shuffle=False, drop_last=False,
                                           name="test", **common)
        check_splits({"train": self.train_batches, "val": self.val_batches,
                      **({"test": self.test_batches} if self.test_batches is not None else {})})
        if run.world_size > 1:
            _shard(self.train_batches, self.val_batches, self.test_batches, run, o.batch_size, o.drop_last)
        batches = len(self.train_batches)
        if batches < o.accumulate:
            raise EngineError(f"the training data has {batches} batch(es) per epoch, fewer than "
                              f"accumulate = {o.accumulate}", where=f"{WHERE}.accumulate",
                              fix="lower accumulate or batch_size")
        self._steps_per_epoch = batches // o.accumulate

    def _choose_batch_size(self, run: Run, train: Any) -> None:
        """``batch_size = "auto"``: the size an earlier attempt recorded, else the largest that
        fits (:mod:`engine_torch.batch_finder`); recorded in ``spec.toml`` by the core."""
        o, where = self.options, f"{WHERE}.batch_size"
        if run.world_size > 1:
            raise EngineError('batch_size = "auto" probes one process, not several', where=where,
                              fix="set batch_size to a number (engine check with one process prints one that fits)")
        if isinstance(train, torch.utils.data.DataLoader):
            raise EngineError('batch_size = "auto" cannot change a ready DataLoader\'s batch size', where=where,
                              fix="return datasets from the data function, or set batch_size to a number")
        budget = parse_bytes(o.max_memory) if o.max_memory is not None else None
        chosen = batch_finder.recorded(run.dir)
        if chosen is None:
            if budget is None and self.device.type != "cuda":
                raise EngineError(f'batch_size = "auto" on {self.device.type} needs a memory budget', where=where,
                                  fix='set max_memory, such as max_memory = "8 GiB"')
            size = DatasetBatches(train, batch_size=1, shuffle=False, drop_last=False, name="train").size
            upper = min(o.max_batch_size or size, size)
            forward = make_step_forward(o.step, self.module, WHERE) if o.step is not None \
                else make_forward(self.module, o.loss, WHERE)
            probe = batch_finder.make_probe(
                self.module, lambda m: build_optimizer(o.optimizer, m, decay_bias_and_norm=o.decay_bias_and_norm,
                                                       where=WHERE),
                forward, batch_fetcher(train), self._prepare, self._autocast, self.device)
            chosen, peak = batch_finder.choose(probe, upper=upper, budget=budget, where=where)
            limit = f"of max_memory {batch_finder.show_bytes(budget)}" if budget is not None else "without running out"
            how = f"largest of 1..{upper} that fits; a step's peak {batch_finder.show_bytes(peak)} {limit}"
        else:
            how = f"recorded in {run.dir / 'spec.toml'} by an earlier attempt; not probed again"
        print(f"engine: {where} = \"auto\": {chosen} ({how})", file=sys.stderr, flush=True)
        o.batch_size = chosen
        backend_table = run.spec.raw.get("backend")
        if isinstance(backend_table, dict):
            backend_table["batch_size"] = chosen  # the run's spec.toml records the size a resume uses

    def _probe(self, forward: Callable[[Any], tuple[torch.Tensor, Any, Any]]) -> None:
        """Run one batch forward (no gradients, RNG untouched) so a mismatch is a clear error now."""
        o = self.options
        if not isinstance(self.train_batches, DatasetBatches) or self.train_batches.size == 0:
            return
        saved = state.rng_state()
        batch = self._prepare(self.train_batches.fetch(torch.arange(min(o.batch_size, self.train_batches.size))))
        self.module.eval()
        try:
            with torch.no_grad(), self._autocast():
                if o.loss == MODEL_LOSS:
                    loss = call(forward, f"the forward pass of model {o.model!r}", batch)[0]
                else:
                    loss = self._probe_supervised(forward, batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise EngineError(f"the loss is {shape_of(loss)}, not a scalar tensor", where=f"{WHERE}.loss",
                                  fix="reduce the loss to a single value (mean or sum)")
        finally:
            self.module.train()
            state.load_rng_state(saved)

    def _probe_supervised(self, forward: Callable[[Any], tuple[torch.Tensor, Any, Any]],
                          batch: Any) -> torch.Tensor:
        o = self.options
        args, kwargs, targets = split(batch)
        out = call(self.module, f"the forward pass of model {o.model!r}", *args, **kwargs)
        if isinstance(out, dict) and "loss" in out:
            return out["loss"]  # type: ignore[no-any-return]
        outputs = model_outputs(out)
        try:
            return forward(batch)[0]
        except Exception as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(
                f"the model's outputs do not fit loss {o.loss!r}: outputs {shape_of(outputs)}, "
                f"targets {shape_of(targets)} ({detail})", where=f"{WHERE}.loss",
                fix="make the model's outputs match what the loss expects, or choose another loss",
            ) from None

    @hookimpl
    def on_run_start(self, run: Run) -> None:
        """Fire ``on_before_optimizer_step`` only if a plugin implements it (every plugin of the
        run is registered by now): a run without one pays nothing per step."""
        caller = run.hook.on_before_optimizer_step
        self._before_optimizer_step = caller if caller.get_hookimpls() else None

    @hookimpl
    def on_run_end(self) -> None:
        """Give the process back its thread count and determinism setting (runs may share a process)."""
        if self._saved_settings is not None:
            threads, deterministic = self._saved_settings
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)
            self._saved_settings = None

    # ------------------------------------------------------------------ training

    @property
    def steps_per_epoch(self) -> int:
        return self._steps_per_epoch

    def _prepare(self, batch: Any) -> Any:
        if self.device.type != "cpu":
            batch = to_device(batch, self.device, non_blocking=self.options.pin_memory)
        if self.precision is not None and self.precision.param_dtype is not None:
            batch = cast_floating(batch, self.precision.param_dtype)
        return batch

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        context = self.precision.autocast(self.device) if self.precision is not None else None
        return context if context is not None else contextlib.nullcontext()

    def _position_at(self, run: Run) -> None:
        """Start the epoch's batch iterator at the run's position (a resume, a new epoch)."""
        assert self.train_batches is not None
        self._batches = self.train_batches.iterate(run.seed, run.epoch, run.step_in_epoch * self.options.accumulate)
        self._epoch = run.epoch

    def train_step(self, run: Run) -> None:
        meter = self._meter
        meter.start_step()
        if run.epoch != self._epoch or run.step_in_epoch != self._position:
            self._position_at(run)
        self._position = run.step_in_epoch + 1
        optimizer = self.optimizer
        assert optimizer is not None
        if self.schedule is not None:
            factor = self.schedule(run)
            for group, base in zip(optimizer.param_groups, self.base_lrs, strict=True):
                group["lr"] = base * factor
        before_step = self._before_optimizer_step
        if self._simple:
            batch = next(self._batches)
            meter.count(batch)
            loss = self.forward(batch)[0]
            loss.backward()
            if before_step is not None:
                before_step(run=run, optimizer=optimizer)
            optimizer.step()
            optimizer.zero_grad()
            self._record(loss)
            meter.end_step()
            return
        if self._owner is not None:
            self._owned_step(run, self._owner, optimizer, before_step)
        else:
            self._general_step(run, optimizer, before_step)
        meter.end_step()

    def _owned_step(self, run: Run, owner: OwnedStep, optimizer: torch.optim.Optimizer,
                    before_step: Callable[..., Any] | None) -> None:
        """The strategy's backward passes and step (it scales, accumulates and clips)."""
        for _ in range(self.options.accumulate):
            raw = next(self._batches)
            self._meter.count(raw)
            batch = self._prepare(raw)
            with self._autocast():
                loss = self.forward(batch)[0]
            owner.backward(loss)
            self._record(loss)
        if before_step is not None:
            before_step(run=run, optimizer=optimizer)
        owner.step()

    def _general_step(self, run: Run, optimizer: torch.optim.Optimizer,
                      before_step: Callable[..., Any] | None) -> None:
        """Accumulate, unscale, ``on_before_optimizer_step``, clip, step: in that order."""
        o, scaler = self.options, self.scaler
        for _ in range(o.accumulate):
            raw = next(self._batches)
            self._meter.count(raw)
            batch = self._prepare(raw)
            with self._autocast():
                loss = self.forward(batch)[0]
            scaled = loss / o.accumulate if o.accumulate > 1 else loss
            (scaler.scale(scaled) if scaler is not None else scaled).backward()
            self._record(loss)
        clipping = o.clip_norm is not None or o.clip_value is not None
        if scaler is not None and (clipping or before_step is not None):
            scaler.unscale_(optimizer)  # once per step; scaler.step then does not unscale again
        if before_step is not None:
            before_step(run=run, optimizer=optimizer)
        if clipping:
            if o.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(self.module.parameters(), o.clip_norm)
            else:
                torch.nn.utils.clip_grad_value_(self.module.parameters(), o.clip_value)  # type: ignore[arg-type]
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad()

    def _record(self, loss: torch.Tensor) -> None:
        losses = self._losses
        losses.append(loss.detach())
        self._loss_count += 1
        if len(losses) >= _FOLD_LOSSES:
            self._losses = [torch.stack([x.float() for x in losses]).sum()]

    def train_metrics(self) -> dict[str, float]:
        if not self._loss_count:
            return {}
        self._meter.start_step()  # the wait for the device's queued work is training time too
        total = torch.stack([x.float() for x in self._losses]).sum().item()
        self._meter.end_step()
        metrics = {"train/loss": total / self._loss_count}
        if self.optimizer is not None:
            metrics["lr"] = float(self.optimizer.param_groups[0]["lr"])
        self._losses, self._loss_count = [], 0
        return {**metrics, **self._meter.collect()}

    def is_finite(self) -> bool:
        """Whether every weight, floating buffer and loss not yet reported is finite: one
        device sync, and one sum over every process under a strategy (so all agree)."""
        tensors = [*self.module.parameters(), *(b for b in self.module.buffers() if b.is_floating_point()),
                   *self._losses]
        flags = [torch.isfinite(_local(t)).logical_not().any() for t in tensors]
        bad = torch.stack(flags).any().float() if flags else torch.zeros((), device=self.device)
        if self.strategy is not None:
            bad = self.strategy.reduce(bad.to(self.device))
        return not bool(bad.item())

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, run: Run) -> dict[str, float]:
        assert self.val_batches is not None
        return self._evaluate(self.val_batches, run.seed, "val")

    def _evaluate(self, batches: DatasetBatches | LoaderBatches, seed: int, prefix: str) -> dict[str, float]:
        dtype = torch.float32 if self.device.type == "mps" else torch.float64
        total = torch.zeros((), dtype=dtype, device=self.device)
        count = 0
        metrics = [make(self.device) for make in self.metrics]
        self.module.eval()
        try:
            with torch.no_grad():
                for raw in batches.iterate(seed, 0):
                    batch = self._prepare(raw)
                    with self._autocast():
                        loss, outputs, targets = self.forward(batch)
                    size = _batch_size(targets if targets is not None else batch)
                    if size:  # a process's slice of a short last batch may be empty (its loss is nan)
                        total += loss.detach().to(dtype) * size
                    count += size
                    if metrics and isinstance(outputs, torch.Tensor) and isinstance(targets, torch.Tensor):
                        for metric in metrics:
                            metric.update(outputs, targets)
        finally:
            self.module.train()
        if self.strategy is not None:
            total, count = self._reduce(total, count, metrics)
        results = {f"{prefix}/loss": float(total.item()) / max(count, 1)}
        for metric in metrics:
            results[f"{prefix}/{metric.name}"] = metric.compute()
        return results

    def test(self, run: Run) -> dict[str, float]:
        """The ``test`` split's metrics (``test/loss``, ``test/<metric>``), or none without one."""
        if self.test_batches is None:
            return {}
        return self._evaluate(self.test_batches, run.seed, "test")

    def input_example(self) -> Any:
        """Up to five training inputs as the exported model takes them (a numpy array), or None
        when the model's input is not one tensor or the data is the user's own DataLoader."""
        if not isinstance(self.train_batches, DatasetBatches) or self.train_batches.size == 0:
            return None
        args, kwargs, _ = split(self.train_batches.fetch(torch.arange(min(5, self.train_batches.size))))
        if kwargs or len(args) != 1 or not isinstance(args[0], torch.Tensor):
            return None
        return args[0].detach().cpu().numpy()

    def metric_names(self, run: Run) -> list[str]:
        """What :meth:`evaluate` reports: ``val/loss`` and ``val/<metric>`` per configured metric."""
        return ["val/loss", *(f"val/{short_name(name)}" for name in self.options.metrics)]

    def dry_run(self, run: Run) -> None:
        """The first validation batch through the model, the loss and every metric, as an
        evaluation does (no gradients; the RNG, the model and the data position untouched).

        Not under several processes: a sharded model's forward is a collective, and a process
        whose slice of the batch is empty would leave the others waiting."""
        o = self.options
        assert self.val_batches is not None
        if run.world_size > 1:
            return
        forward = make_step_forward(o.step, self.module, WHERE) if o.step is not None \
            else make_forward(self.module, o.loss, WHERE)
        saved = state.rng_state()
        self.module.eval()
        try:
            batches = self.val_batches.iterate(run.seed, 0)
            raw = next(iter(batches), None)
            close = getattr(batches, "close", None)
            if callable(close):
                close()
            if raw is None:
                return
            metrics = [make(self.device) for make in self.metrics]
            with torch.no_grad(), self._autocast():
                loss, outputs, targets = call(forward, f"one validation batch through model {o.model!r}",
                                              self._prepare(raw))
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    raise EngineError(f"the loss is {shape_of(loss)}, not a scalar tensor",
                                      where=f"{WHERE}.step" if o.step is not None else f"{WHERE}.loss",
                                      fix="reduce the loss to a single value (mean or sum)")
                if isinstance(outputs, torch.Tensor) and isinstance(targets, torch.Tensor):
                    for index, metric in enumerate(metrics):
                        call(metric.update, f"metric {o.metrics[index]!r}", outputs, targets)
                        call(metric.compute, f"metric {o.metrics[index]!r}")
        finally:
            self.module.train()
            state.load_rng_state(saved)

    def _reduce(self, total: torch.Tensor, count: int, metrics: list[Metric]) -> tuple[torch.Tensor, int]:
        """Sums and counts over every process (one collective for all, one per confusion matrix)."""
        assert self.strategy is not None
        packed = torch.stack([total.double(), torch.tensor(float(count), dtype=torch.float64, device=total.device),
                              *[m.total.double() for m in metrics],
                              *[torch.tensor(float(m.count), dtype=torch.float64, device=total.device)
                                for m in metrics]])
        packed = self.strategy.reduce(packed)
        for index, metric in enumerate(metrics):
            metric.total = packed[2 + index]
            metric.count = int(packed[2 + len(metrics) + index].item())
            confusion = getattr(metric, "confusion", None)
            if isinstance(confusion, torch.Tensor):
                metric.confusion = self.strategy.reduce(confusion)  # type: ignore[attr-defined]
        return packed[0], int(packed[1].item())

    # ------------------------------------------------------------------ state and export

    def state_dict(self) -> dict[str, Any]:
        """The state, its tensors as deferred safetensors bytes: copied now into host buffers
        reused from the last save, serialised when the checkpoint is written."""
        assert self.optimizer is not None
        host = self._host
        pending = {"losses": torch.stack([x.float() for x in self._losses])} if self._losses else {}
        sharded = self.strategy.model_state(self.module, self.optimizer) if self.strategy is not None else None
        if sharded is not None:
            parts: dict[str, Any] = {"sharded": sharded}
        else:
            parts = {"model": state.tensors_to_bytes(self.model_state(), host["model"]),
                     "optimizer": state.optimizer_state(self.optimizer, host["optimizer"])}
        return {
            **parts,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": state.rng_state(),
            "pending_losses": state.tensors_to_bytes(pending, host["pending_losses"]),
            "pending_count": self._loss_count,
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        assert self.optimizer is not None
        where = "--resume"
        if "sharded" in saved:
            if self.strategy is None or not self.strategy.sharded:
                raise EngineError("the checkpoint holds a sharded model, which this run cannot load",
                                  where=where, fix='resume with the strategy that saved it ([strategy] use = "fsdp")')
            self.strategy.load_model_state(self.module, self.optimizer, saved["sharded"])
        else:
            tensors = state.tensors_from_bytes(saved["model"])
            self.load_model_state(tensors, where)
            state.load_optimizer_state(self.optimizer, saved["optimizer"])
        if self.scaler is not None and saved.get("scaler"):
            self.scaler.load_state_dict(saved["scaler"])
        state.load_rng_state(saved["rng"])
        pending = state.tensors_from_bytes(saved["pending_losses"])
        self._losses = list(pending["losses"].to(self.device).unbind()) if "losses" in pending else []
        self._loss_count = int(saved["pending_count"])
        self._epoch = self._position = -1

    def export(self, directory: Path, tag: str) -> Path | None:
        if self.strategy is None:
            return export.save_model(self.module, directory / f"{tag}.safetensors",
                                     model=self.options.model, model_args=self.options.model_args)
        tensors = self.strategy.full_state(self.module)  # every process: a sharded model is gathered
        if tensors is None:
            return None
        return export.save_model(self.module, directory / f"{tag}.safetensors", model=self.options.model,
                                 model_args=self.options.model_args, tensors=tensors)


def _strategy_of(run: Run) -> TorchStrategy | None:
    selected = run.components.get("strategy")
    if selected is None:
        return None
    if not isinstance(selected, TorchStrategy):
        name = run.spec.component("strategy")
        raise EngineError(f"strategy {name.name if name else '?'!r} cannot train the torch backend",
                          where="strategy", fix='use "ddp" or "fsdp" with the torch backend')
    return selected


def _shard(train: DatasetBatches | LoaderBatches, val: DatasetBatches | LoaderBatches | None,
           test: DatasetBatches | LoaderBatches | None, run: Run, batch_size: int, drop_last: bool) -> None:
    """Give this process its part of the data; a training batch is global, split across processes."""
    world = run.world_size
    if isinstance(train, DatasetBatches):
        if batch_size % world:
            raise EngineError(f"batch_size {batch_size} does not split evenly over {world} processes",
                              where=f"{WHERE}.batch_size",
                              fix=f"the batch size is global: make it a multiple of {world}")
        last = train.size % batch_size
        if not drop_last and 0 < last < world:
            raise EngineError(f"the last training batch has {last} row(s), fewer than the {world} processes",
                              where=f"{WHERE}.drop_last", fix="set drop_last = true, or change batch_size")
    for batches in (train, val, test):
        if isinstance(batches, LoaderBatches):
            _check_loader(batches, world, training=batches is train)
        if batches is not None:
            batches.shard(run.rank, world, within_batches=batches is train)


def _check_loader(batches: LoaderBatches, world: int, *, training: bool) -> None:
    """A ready DataLoader's batch is global: every process keeps rows of every (training) batch."""
    size = batches.loader.batch_size
    if size is None or batches.shards_itself:
        return
    if size % world:
        raise EngineError(f"the DataLoader's batch_size {size} does not split evenly over {world} processes",
                          where=f"{WHERE}.data",
                          fix=f"each process keeps its part of every batch: make the DataLoader's batch_size "
                              f"a multiple of {world}, or give it a DistributedSampler")
    last = batches.last_batch_rows() if training else 0
    if 0 < last < world:
        raise EngineError(f"the DataLoader's last training batch has {last} row(s), fewer than the {world} "
                          "processes", where=f"{WHERE}.data",
                          fix="pass drop_last=True to the DataLoader, or change its batch_size")


def _set_threads(count: int) -> None:
    """``torch.set_num_threads``; a thread pool that cannot start is one clear line."""
    try:
        torch.set_num_threads(count)
    except (RuntimeError, OSError) as exc:
        error = pool_error(exc, where=f"{WHERE}.threads", what=f"{count} threads")
        if error is None:
            raise
        raise error from None


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (every device) from the run's seed."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _local(tensor: torch.Tensor) -> torch.Tensor:
    """This process's part of a tensor sharded by a strategy (a DTensor), or the tensor."""
    to_local = getattr(tensor, "to_local", None)
    return to_local() if callable(to_local) else tensor


def _batch_size(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return int(value.shape[0]) if value.ndim else 1
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        for item in value:
            if isinstance(item, torch.Tensor) and item.ndim:
                return int(item.shape[0])
    return 1


def _unset(batch: Any) -> tuple[torch.Tensor, Any, Any]:
    raise RuntimeError("the torch backend was not set up")
