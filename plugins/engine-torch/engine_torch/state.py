"""Torch state as JSON values and safetensors bytes: model, optimizer, RNGs. Never pickle."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import safetensors.torch
import torch

from engine.errors import CheckpointError


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


def tensors_to_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    """safetensors bytes of ``tensors``."""
    return safetensors.torch.save(host_tensors(tensors))


def tensors_from_bytes(data: bytes) -> dict[str, torch.Tensor]:
    return safetensors.torch.load(data)


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


def optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """``optimizer.state_dict()`` split into JSON values and a safetensors blob."""
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
    return {"groups": groups, "values": values, "tensors": tensors_to_bytes(tensors)}


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
