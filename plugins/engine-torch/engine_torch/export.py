"""The trained model as safetensors, and the one-call loader.

``model/final.safetensors`` (and ``model/best.safetensors`` when a metric is monitored) hold
the weights; their metadata records the model's import path and arguments, so::

    from engine_torch import load_model
    model = load_model("runs/digits-mlp", model=MLP(hidden=128))  # or which="best", or a .safetensors path

loads the weights into a model you built yourself. A file names its model as an import
path, and rebuilding it from there imports and calls that code: the loader does so only when
asked, as ``trust_code=True`` (like Hugging Face's ``trust_remote_code``), for files you made
or trust as much as code you would run::

    model = load_model("runs/digits-mlp", trust_code=True)  # rebuilt from the import path
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch

from engine import EngineError
from engine_torch.state import host_tensors
from engine_torch.usercode import call, resolve

MODEL_KEY = "engine.model"
ARGS_KEY = "engine.model_args"


def save_model(module: torch.nn.Module, path: Path, *, model: str, model_args: dict[str, Any],
               tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``module``'s weights (or ``tensors``, a gathered copy) to ``path`` atomically,
    with how to rebuild the model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = host_tensors(module.state_dict() if tensors is None else tensors)
    partial = path.with_name(f".{path.name}.partial")
    safetensors.torch.save_file(tensors, str(partial),
                                metadata={MODEL_KEY: model, ARGS_KEY: json.dumps(model_args)})
    _sort_metadata(partial)
    os.replace(partial, path)
    return path


def _sort_metadata(path: Path) -> None:
    """Rewrite a safetensors header with its metadata keys sorted.

    safetensors writes the metadata map in an order that changes from process to process (a
    Rust ``HashMap``), so equal weights gave different file bytes; sorted, the export is
    bit-identical whenever the weights are (an uninterrupted and a resumed run, say).
    """
    with open(path, "r+b") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
        metadata = header.pop("__metadata__", None)
        if metadata:
            header = {"__metadata__": dict(sorted(metadata.items())), **header}
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) <= size:  # the same keys in another order: same length, rewritten in place
            handle.seek(8)
            handle.write(text.ljust(size))  # safetensors pads its header with spaces too
            return
        data = handle.read()
        text = text.ljust(len(text) + -len(text) % 8)
        handle.seek(0)
        handle.write(len(text).to_bytes(8, "little") + text + data)


def model_file(source: str | Path, which: str = "final") -> Path:
    """The safetensors file of a run directory (``which``: ``final`` or ``best``), or ``source`` itself."""
    path = Path(source)
    if path.is_dir():
        path = path / "model" / f"{which}.safetensors"
    if not path.is_file():
        raise EngineError(f"no exported model at {str(path)!r}",
                          fix="pass a run directory of a completed torch run, or a .safetensors file")
    return path


def load_model(source: str | Path, model: torch.nn.Module | None = None, *, which: str = "final",
               device: str = "cpu", trust_code: bool = False) -> torch.nn.Module:
    """The model saved by a run, in eval mode: its weights loaded into ``model``, or, only with
    ``trust_code=True``, into a model rebuilt by importing and calling the file's import path."""
    path = model_file(source, which)
    if model is None:
        with safetensors.safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        if MODEL_KEY not in metadata:
            raise EngineError(f"{str(path)!r} does not say which model it holds",
                              fix="pass model=<an nn.Module> to load the weights into")
        if not trust_code:
            raise EngineError(
                f"{str(path)!r} names its model as {metadata[MODEL_KEY]!r}; rebuilding it would import "
                "and call that code, which a file cannot ask for",
                fix="pass model=<an nn.Module you built> to load the weights into, or trust_code=True "
                    "if you trust this file as much as code you run")
        factory = resolve(metadata[MODEL_KEY], "the saved model")
        model = call(factory, f"model {metadata[MODEL_KEY]!r}", **json.loads(metadata.get(ARGS_KEY, "{}")))
    assert model is not None
    model.load_state_dict(safetensors.torch.load_file(str(path), device=device))
    return model.to(device).eval()
