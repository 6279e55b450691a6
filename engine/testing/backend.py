"""The testing backend: a tiny pure-Python linear model trained by noisy SGD.

No numpy, no torch: its whole state is a few floats and a seeded RNG, so a plugin author can
exercise every event, checkpoint and resume path in milliseconds. Its state evolves
deterministically from the seed, so an interrupted and resumed run ends bit-identical to one
that never stopped.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

from engine._core.cv import fold_indices
from engine._core.run import Run
from engine._core.rundir import write_atomic

__all__ = ["TestingBackend", "TestingBackendOptions"]
from engine._core.builtin.testing_backend import TestingBackendOptions


class TestingBackend:
    """Linear regression on generated data; one step is one SGD update on one batch."""

    __test__ = False  # not a pytest test class

    def __init__(self, options: TestingBackendOptions):
        self.options = options
        self.weights: list[float] = []
        self.rng = random.Random()
        self.loss_sum = 0.0
        self.loss_count = 0
        self.lr = options.lr
        self.train: list[tuple[list[float], float]] = []
        self.val: list[tuple[list[float], float]] = []
        self._order: list[int] = []
        self._order_epoch = -1

    def setup(self, run: Run) -> None:
        o = self.options
        data_rng = random.Random(f"data-{run.seed}")
        truth = [data_rng.gauss(0, 1) for _ in range(o.dim)]
        rows = []
        for _ in range(o.train_size + o.val_size):
            x = [data_rng.gauss(0, 1) for _ in range(o.dim)]
            rows.append((x, sum(a * b for a, b in zip(x, truth, strict=True)) + data_rng.gauss(0, 0.05)))
        if run.fold is None:
            self.train, self.val = rows[: o.train_size], rows[o.train_size:]
        else:
            fold, folds = run.fold
            train_idx, val_idx = fold_indices(len(rows), folds, fold, run.seed)
            self.train, self.val = [rows[i] for i in train_idx], [rows[i] for i in val_idx]
        self.weights = [0.0] * o.dim
        self.rng = random.Random(f"noise-{run.seed}")

    @property
    def steps_per_epoch(self) -> int:
        return max(1, len(self.train) // self.options.batch_size)

    def _epoch_order(self, seed: int, epoch: int) -> list[int]:
        if epoch != self._order_epoch:
            order = list(range(len(self.train)))
            random.Random(f"order-{seed}-{epoch}").shuffle(order)
            self._order, self._order_epoch = order, epoch
        return self._order

    def train_step(self, run: Run) -> None:
        o = self.options
        step = run.step + 1
        if o.fail_at_step == step:
            raise RuntimeError(f"testing backend failure at step {step}")
        if o.step_seconds:
            time.sleep(o.step_seconds)
        order = self._epoch_order(run.seed, run.epoch)
        start = run.step_in_epoch * o.batch_size
        batch = [self.train[i] for i in order[start:start + o.batch_size]]
        grad = [0.0] * o.dim
        loss = 0.0
        for x, y in batch:
            error = sum(w * v for w, v in zip(self.weights, x, strict=True)) - y
            loss += error * error
            for j, v in enumerate(x):
                grad[j] += 2 * error * v / len(batch)
        self.lr = o.lr * self._lr_scale(run)
        self.weights = [w - self.lr * (g + self.rng.gauss(0, o.noise))
                        for w, g in zip(self.weights, grad, strict=True)]
        if o.nan_at_step is not None and step >= o.nan_at_step:
            loss = math.nan
        self.loss_sum += loss / len(batch)
        self.loss_count += 1

    def _lr_scale(self, run: Run) -> float:
        scheduler = run.components.get("scheduler")
        factor = getattr(scheduler, "factor", None)
        return float(factor(run)) if callable(factor) else 1.0

    def train_metrics(self) -> dict[str, float]:
        if not self.loss_count:
            return {}
        metrics = {"train/loss": self.loss_sum / self.loss_count, "lr": self.lr}
        self.loss_sum, self.loss_count = 0.0, 0
        return metrics

    def is_finite(self) -> bool:
        """Whether the weights and the loss accumulated since the last ``train_metrics`` are finite."""
        return all(math.isfinite(w) for w in self.weights) and math.isfinite(self.loss_sum)

    def evaluate(self, run: Run) -> dict[str, float]:
        errors = [sum(w * v for w, v in zip(self.weights, x, strict=True)) - y for x, y in self.val]
        return {
            "val/loss": sum(e * e for e in errors) / len(errors),
            "val/mae": sum(abs(e) for e in errors) / len(errors),
        }

    def metric_names(self, run: Run) -> list[str]:
        """What :meth:`evaluate` reports."""
        return ["val/loss", "val/mae"]

    def dry_run(self, run: Run) -> None:
        """The loss of the first batch: pure, no RNG drawn, nothing changed."""
        batch = self.train[: self.options.batch_size]
        errors = [sum(w * v for w, v in zip(self.weights, x, strict=True)) - y for x, y in batch]
        if errors and not math.isfinite(sum(e * e for e in errors)):
            raise ValueError("the loss of the first batch is not finite")

    def state_dict(self) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        return {
            "weights": self.weights,
            "rng": {"version": version, "internal": list(internal), "gauss": gauss},
            "loss_sum": self.loss_sum,
            "loss_count": self.loss_count,
            "lr": self.lr,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["weights"]) != self.options.dim:
            raise ValueError(f"checkpoint has {len(state['weights'])} weights, the spec asks for {self.options.dim}")
        self.weights = [float(w) for w in state["weights"]]
        rng = state["rng"]
        self.rng.setstate((rng["version"], tuple(rng["internal"]), rng["gauss"]))
        self.loss_sum = float(state["loss_sum"])
        self.loss_count = int(state["loss_count"])
        self.lr = float(state["lr"])

    def export(self, directory: Path, tag: str) -> Path:
        return write_atomic(directory / f"{tag}.json", json.dumps({"weights": self.weights}))
