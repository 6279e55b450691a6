"""Torch state as JSON values and safetensors bytes: model, optimizer, RNGs. Never pickle.

Tensors are snapshotted as deferred bytes (:class:`TensorSnapshot`, see
:mod:`engine._core.checkpoint.state`): ``state_dict`` only copies them into host buffers, and the
checkpoint's background thread turns the copies into safetensors bytes.
"""

from __future__ import annotations

import random
import weakref
from typing import Any, SupportsBytes

import numpy as np
import safetensors.torch
import torch

from engine import CheckpointError


def host_tensors(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` on the host, contiguous, copied only where a storage is shared (safetensors refuses it)."""
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for key, value in tensors.items():
        tensor = value.detach().cpu().contiguous()
        pointer = tensor.untyped_storage().data_ptr()
        if tensor.numel() and pointer in seen:
            tensor = tensor.clone()
        seen.add(pointer)
        out[key] = tensor
    return out


class TensorSnapshot:
    """Private host copies of tensors, deferred bytes: ``bytes(snapshot)`` is their safetensors file.

    The file is made once, on the first ``bytes()`` (in the checkpoint's background thread),
    and kept; from then on the :class:`HostBuffers` that made the copies may reuse them.
    """

    def __init__(self, copies: dict[str, torch.Tensor]):
        self._copies: dict[str, torch.Tensor] | None = copies
        self._data: bytes | None = None

    @property
    def done(self) -> bool:
        """Whether it was turned into bytes (its host copies are free again)."""
        return self._data is not None

    def __bytes__(self) -> bytes:
        if self._data is None:
            assert self._copies is not None
            self._data = safetensors.torch.save(self._copies)
            self._copies = None
        return self._data


class HostBuffers:
    """Host tensors that snapshots copy into, allocated once and reused from one save to the next.

    The buffers of the last snapshot are reused only once it was turned into bytes (or dropped);
    otherwise the next snapshot gets fresh ones, so a snapshot never changes after it is taken.
    A key whose shape or dtype changed gets a fresh buffer too. CUDA tensors are copied
    without blocking into pinned memory, then their devices are synchronized once.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}
        self._last: weakref.ref[TensorSnapshot] | None = None

    def snapshot(self, tensors: dict[str, torch.Tensor]) -> TensorSnapshot:
        """Copy ``tensors`` into host buffers (reused where free and fitting)."""
        free = self._free()
        copies = {key: _host_copy(free.get(key), value) for key, value in tensors.items()}
        for device in {value.device for value in tensors.values() if value.device.type == "cuda"}:
            torch.cuda.synchronize(device)
        self._buffers = copies
        snapshot = TensorSnapshot(copies)
        self._last = weakref.ref(snapshot)
        return snapshot

    def _free(self) -> dict[str, torch.Tensor]:
        last = self._last() if self._last is not None else None
        return self._buffers if last is None or last.done else {}


def _host_copy(buffer: torch.Tensor | None, tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` copied into ``buffer``, or into a new host tensor when that does not fit."""
    source = tensor.detach()
    cuda = source.device.type == "cuda"
    if (buffer is None or buffer.shape != source.shape or buffer.dtype != source.dtype
            or (cuda and not buffer.is_pinned())):
        buffer = torch.empty(source.shape, dtype=source.dtype, pin_memory=cuda)
    return buffer.copy_(source, non_blocking=cuda)


def tensors_to_bytes(tensors: dict[str, torch.Tensor], buffers: HostBuffers | None = None) -> TensorSnapshot:
    """safetensors bytes of ``tensors``, deferred: host copies now (into ``buffers`` when
    given, reused from the last save), the bytes when ``bytes()`` is called."""
    return (buffers if buffers is not None else HostBuffers()).snapshot(tensors)


def tensors_from_bytes(data: bytes | SupportsBytes) -> dict[str, torch.Tensor]:
    return safetensors.torch.load(data if isinstance(data, bytes) else bytes(data))


# ---------------------------------------------------------------------------- model


def load_model_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Load weights, naming every missing, unexpected or reshaped key when they do not fit."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    reshaped = sorted(f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
                      if k in tensors and tensors[k].shape != v.shape)
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f"missing {_some(missing)}")
        if unexpected:
            parts.append(f"unexpected {_some(unexpected)}")
        if reshaped:
            parts.append(f"shape (checkpoint vs model) {_some(reshaped)}")
        raise CheckpointError(f"the checkpoint's model does not fit this model: {'; '.join(parts)}",
                              where=where, fix="resume with the spec that wrote the checkpoint, or start "
                                               "a new run directory")
    module.load_state_dict(tensors, strict=True)


def _some(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


# ---------------------------------------------------------------------------- optimizer


def optimizer_state(optimizer: torch.optim.Optimizer, buffers: HostBuffers | None = None) -> dict[str, Any]:
    """``optimizer.state_dict()`` split into JSON values and a (deferred) safetensors blob."""
    full = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    values: dict[str, dict[str, Any]] = {}
    for index, entries in full["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value
            else:
                values.setdefault(str(index), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items()}
              for group in full["param_groups"]]
    return {"groups": groups, "values": values, "tensors": tensors_to_bytes(tensors, buffers)}


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    current = optimizer.state_dict()["param_groups"]
    groups = []
    for group, now in zip(state["groups"], current, strict=False):
        groups.append({k: (tuple(v) if isinstance(now.get(k), tuple) else v) for k, v in group.items()})
    per_param: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors_from_bytes(state["tensors"]).items():
        index, _, key = name.partition(".")
        per_param.setdefault(int(index), {})[key] = tensor
    for index, entries in state["values"].items():
        per_param.setdefault(int(index), {}).update(entries)
    optimizer.load_state_dict({"state": per_param, "param_groups": groups})


# ---------------------------------------------------------------------------- random number generators


def rng_state() -> dict[str, Any]:
    """numpy's and torch's (CPU and every initialised CUDA device) generator states.

    Python's ``random`` is saved by the engine's loop itself (participant ``rng:python``);
    it is included here too so a backend state alone restores every generator.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {"kind": kind, "keys": np.asarray(keys, dtype=np.uint32).tobytes(), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state().numpy().tobytes(),
        "cuda": [],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.numpy().tobytes() for s in torch.cuda.get_rng_state_all()]
    return state


def load_rng_state(state: dict[str, Any]) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], np.frombuffer(n["keys"], dtype=np.uint32).copy(), n["pos"],
                         n["has_gauss"], n["cached"]))
    torch.set_rng_state(_byte_tensor(state["torch"]))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_byte_tensor(s) for s in state["cuda"]])


def _byte_tensor(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)
