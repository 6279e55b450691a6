"""The torch backend's state: host snapshots that stay what they were, and buffers reused between saves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from engine_torch import state
from torch_helpers import assert_bit_identical, base_spec

from engine import hookimpl
from engine.testing import run_spec


def current(backend: Any) -> dict[str, dict[str, torch.Tensor]]:
    """Copies of the backend's model and optimizer tensors now, named as in its state."""
    optimizer = {f"{index}.{key}": value.clone() for index, entries in backend.optimizer.state_dict()["state"].items()
                 for key, value in entries.items() if isinstance(value, torch.Tensor)}
    return {"model": {k: v.detach().clone() for k, v in backend.model.state_dict().items()}, "optimizer": optimizer}


def saved(snapshot: dict[str, Any]) -> dict[str, dict[str, torch.Tensor]]:
    """What a checkpoint of ``snapshot`` holds: its deferred values turned into bytes, then read back."""
    return {"model": state.tensors_from_bytes(bytes(snapshot["model"])),
            "optimizer": state.tensors_from_bytes(bytes(snapshot["optimizer"]["tensors"]))}


class Probe:
    """Takes the backend's state at steps 2, 3 and 4 without a checkpoint, as any plugin could."""

    def __init__(self) -> None:
        self.expected: dict[int, dict[str, dict[str, torch.Tensor]]] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.written: dict[str, dict[str, dict[str, torch.Tensor]]] = {}

    @hookimpl
    def on_step(self, run: Any) -> None:
        backend, step = run.backend, run.step
        self.expected[step] = current(backend)
        if step == 2:
            self.states["first"] = backend.state_dict()
        if step == 3:  # a second snapshot before the first is written; then both are written
            self.states["second"] = backend.state_dict()
            self.written["first"], self.written["second"] = saved(self.states["first"]), saved(self.states["second"])
            # the buffers are free again: the next snapshot reuses them
            self.states["third"] = backend.state_dict()
            self.written["third"] = saved(self.states["third"])
        if step == 4:
            self.written["fourth"] = saved(backend.state_dict())
            self.written["third again"] = saved(self.states["third"])


def changed(before: dict[str, dict[str, torch.Tensor]], after: dict[str, dict[str, torch.Tensor]]) -> bool:
    return any(not torch.equal(value, after["model"][key]) for key, value in before["model"].items())


def assert_state(got: dict[str, dict[str, torch.Tensor]], expected: dict[str, dict[str, torch.Tensor]]) -> None:
    assert_bit_identical(got["model"], expected["model"])
    assert_bit_identical(got["optimizer"], expected["optimizer"])


def test_snapshots_are_independent_and_reused_buffers_hold_new_values(tmp_path: Path) -> None:
    probe = Probe()
    spec = base_spec(optimizer={"use": "adamw", "lr": 0.05})
    spec["loop"] = {"max_steps": 4, "eval_every": "never"}
    result = run_spec(spec, tmp_path / "r", plugins=[probe])
    assert result.status == "completed"
    assert probe.expected[3]["optimizer"] and changed(probe.expected[2], probe.expected[3])
    assert_state(probe.written["first"], probe.expected[2])
    assert_state(probe.written["second"], probe.expected[3])
    assert_state(probe.written["third"], probe.expected[3])
    assert_state(probe.written["fourth"], probe.expected[4])
    assert_state(probe.written["third again"], probe.expected[3])  # a written snapshot never changes


def test_changed_keys_shapes_and_dtypes_get_new_buffers() -> None:
    buffers = state.HostBuffers()
    first = {"a": torch.arange(4.0).reshape(2, 2), "b": torch.ones(3, dtype=torch.int64)}
    assert_bit_identical(state.tensors_from_bytes(bytes(state.tensors_to_bytes(first, buffers))), first)
    second = {"a": torch.arange(6.0), "b": torch.ones(3, dtype=torch.float16), "c": torch.zeros(())}
    assert_bit_identical(state.tensors_from_bytes(bytes(state.tensors_to_bytes(second, buffers))), second)
    third = {"c": torch.ones(())}
    assert_bit_identical(state.tensors_from_bytes(bytes(state.tensors_to_bytes(third, buffers))), third)


def test_a_snapshot_is_the_same_file_as_before(tmp_path: Path) -> None:
    """The deferred bytes are exactly what ``safetensors.torch.save`` of the tensors gives."""
    import safetensors.torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    tensors = model.state_dict()
    assert bytes(state.tensors_to_bytes(tensors, state.HostBuffers())) == safetensors.torch.save(
        state.host_tensors(tensors))
