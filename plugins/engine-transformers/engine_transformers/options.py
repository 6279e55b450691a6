"""Options of the ``transformers`` backend: the torch backend's, with a model, text data and LoRA
given as tables (no torch or transformers import here)."""

from __future__ import annotations

import re
from typing import Any, Literal

import attrs
from engine_torch import TorchOptions

from engine import STRUCTURAL, PositiveFloat, PositiveInt

#: A class of the ``transformers`` package by name (``AutoModelForSequenceClassification``).
CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
#: Text file formats, and the ``datasets`` builder that reads each.
FORMATS = ("csv", "json", "parquet")


@attrs.define
class ModelOptions:
    """``model = { hf = ..., pretrained = ... }``: a transformers class and the checkpoint it loads."""

    pretrained: str
    """A local folder written by ``save_pretrained``, or a Hub model id."""
    hf: str = "AutoModelForSequenceClassification"
    """The ``transformers`` class whose ``from_pretrained`` builds the model (an ``Auto*`` class
    or a concrete one, e.g. ``BertForSequenceClassification``)."""
    num_labels: PositiveInt | None = None
    """Number of classes of a classification head (default: the checkpoint's config)."""
    revision: str = ""
    """A Hub branch, tag or commit (default: the checkpoint's default branch)."""
    trust_remote_code: bool = False
    """Run the checkpoint's own modelling code (a Hub repository's Python files). Off: only
    the classes that ship with ``transformers`` load."""
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    """The weights' dtype at load (``auto``: the checkpoint's). Mixed precision is ``[precision]``."""
    tokenizer: str = ""
    """A tokenizer folder or id (default: ``pretrained``)."""


@attrs.define
class TextDataOptions:
    """``[backend.data]``: text files (CSV, JSON lines or Parquet; a local path or an fsspec URL)."""

    train: str
    """Training rows: ``data/train.csv``, ``s3://bucket/train.parquet``, ``data/train.jsonl``."""
    val: str
    """Validation rows, same forms as ``train``."""
    test: str = ""
    """Held-out rows evaluated once at the end (``test/<metric>``), same forms as ``train``."""
    text: str = "text"
    """The column of text to classify."""
    text_pair: str = ""
    """A second text column, for pair tasks (entailment, similarity)."""
    label: str = "label"
    """The column of class indices ``0..num_labels-1`` (or numbers, for regression)."""
    max_length: PositiveInt | None = None
    """Truncate to this many tokens (default: the tokenizer's ``model_max_length``)."""
    format: Literal["auto", "csv", "json", "parquet"] = "auto"
    """File format; ``auto`` goes by the extension (``.csv``, ``.tsv``, ``.json``, ``.jsonl``, ``.parquet``)."""
    storage_options: dict[str, Any] = attrs.field(factory=dict)
    """Keyword arguments for fsspec (credentials, endpoints) for URLs."""
    cache_dir: str = ""
    """Where ``datasets`` keeps the read and tokenised tables (default: its own cache,
    ``$HF_DATASETS_CACHE`` or ``~/.cache/huggingface/datasets``)."""


@attrs.define
class LoraOptions:
    """``[backend.lora]``: train low-rank adapters (peft's LoRA) instead of the whole model."""

    r: PositiveInt = 8
    """Rank of the adapters."""
    alpha: PositiveFloat = 16.0
    """Scaling numerator (``lora_alpha``): the update is scaled by ``alpha / r``."""
    dropout: float = attrs.field(default=0.0, validator=attrs.validators.and_(attrs.validators.ge(0.0),
                                                                                attrs.validators.lt(1.0)))
    """Dropout on the adapters' input, ``0 <= dropout < 1``."""
    target_modules: list[str] = attrs.field(factory=list)
    """Names of the modules to adapt (e.g. ``["query", "value"]``; default: peft's choice for the architecture)."""
    merge: bool = False
    """Export the model with the adapters merged into its weights (a plain transformers model);
    off: the export is the adapters alone, loaded with peft over the base checkpoint."""


@attrs.define(kw_only=True)
class TransformersOptions(TorchOptions):
    """The torch backend's options, with ``model`` a transformers class and checkpoint,
    ``data`` text files, and optional LoRA."""

    model: ModelOptions = attrs.field(metadata=STRUCTURAL)  # type: ignore[assignment]
    """``{ hf = "AutoModelForSequenceClassification", pretrained = "PATH_OR_ID", num_labels = 2 }``."""
    data: TextDataOptions  # type: ignore[assignment]
    """The text files and their columns: ``[backend.data]``."""
    loss: str = "model"
    """``"model"``: the model's own loss (from the batch's ``labels``); or a torch loss name or
    import path applied to the logits."""
    lora: LoraOptions | None = attrs.field(default=None, metadata=STRUCTURAL)
    """``[backend.lora]``: train LoRA adapters only (peft)."""


def check(options: TransformersOptions, path: str) -> list[str]:
    """Problems the options' types alone do not catch."""
    problems = []
    if not CLASS_NAME.match(options.model.hf):
        problems.append(f"{path}.model.hf: {options.model.hf!r} is not a transformers class name — "
                        "e.g. \"AutoModelForSequenceClassification\"")
    if not options.model.pretrained:
        problems.append(f"{path}.model.pretrained: empty — give a folder written by save_pretrained or a Hub id")
    if options.data_args:
        problems.append(f"{path}.data_args: not used by the transformers backend — remove it "
                        "(the data is the [backend.data] table)")
    return problems
