"""The ``transformers`` backend: the torch backend, with the model from ``from_pretrained``, the
data from text files and, with ``[backend.lora]``, peft's adapters.

Everything else — precision, strategies, schedulers, accumulation, clipping, metrics,
checkpoints and exact resume — is the torch backend's own, unchanged.
"""

from __future__ import annotations

import copy
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from engine_torch import TorchBackend

from engine import CheckpointError, EngineError, Run
from engine_transformers import text_data
from engine_transformers.options import TransformersOptions

WHERE = "backend"
#: peft's task type for a head, by the end of the transformers class name.
_TASK_TYPES = {
    "ForSequenceClassification": "SEQ_CLS",
    "ForTokenClassification": "TOKEN_CLS",
    "ForCausalLM": "CAUSAL_LM",
    "ForSeq2SeqLM": "SEQ_2_SEQ_LM",
    "ForQuestionAnswering": "QUESTION_ANS",
}


def quiet_libraries() -> None:
    """No progress bars or advice from transformers and datasets on the run's console."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    # peft asks transformers for a renamed attribute; the warning is theirs, not the user's to act on
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*", category=FutureWarning)


class TransformersBackend(TorchBackend):
    """Fine-tunes a ``transformers`` model; see :class:`engine_transformers.options.TransformersOptions`."""

    options: TransformersOptions

    def __init__(self, options: TransformersOptions):
        super().__init__(options)
        self.tokenizer: Any = None
        self._trained_names: list[str] | None = None

    # ------------------------------------------------------------------ model

    def build_model(self) -> torch.nn.Module:
        quiet_libraries()
        m = self.options.model
        cls = self._model_class()
        kwargs: dict[str, Any] = {"trust_remote_code": m.trust_remote_code, **self.options.model_args}
        if m.revision:
            kwargs["revision"] = m.revision
        if m.num_labels is not None:
            kwargs["num_labels"] = m.num_labels
        kwargs["dtype"] = m.dtype if m.dtype == "auto" else getattr(torch, m.dtype)
        try:
            module = cls.from_pretrained(m.pretrained, **kwargs)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot load {m.hf}.from_pretrained({m.pretrained!r}): {_first_line(exc)}",
                              where=f"{WHERE}.model.pretrained",
                              fix="point it at a folder written by save_pretrained (or a Hub id, online)") from None
        except RuntimeError as exc:
            if "mismatched" not in str(exc):
                raise
            raise EngineError(f"the checkpoint {m.pretrained!r} has weights of other shapes than this model "
                              "(e.g. a head for another number of labels)", where=f"{WHERE}.model.num_labels",
                              fix="set num_labels to the checkpoint's, or model_args = "
                                  "{ ignore_mismatched_sizes = true } to start those weights afresh") from None
        if self.options.lora is not None:
            module = self._with_adapters(module)
        module = module.to(self.device)
        if self.precision is not None and self.precision.param_dtype is not None:
            module = module.to(self.precision.param_dtype)
        return module  # type: ignore[no-any-return]

    def _model_class(self) -> Any:
        import transformers

        name = self.options.model.hf
        cls = getattr(transformers, name, None) if not name.startswith("_") else None
        if cls is None or not callable(getattr(cls, "from_pretrained", None)):
            raise EngineError(f"transformers has no model class {name!r}", where=f"{WHERE}.model.hf",
                              fix='name a class of transformers, e.g. "AutoModelForSequenceClassification"')
        return cls

    def _with_adapters(self, module: Any) -> Any:
        import peft

        lora = self.options.lora
        assert lora is not None
        task = next((t for end, t in _TASK_TYPES.items() if self.options.model.hf.endswith(end)), None)
        # peft annotates lora_alpha as int, but only ever scales by alpha / r: a float is kept as given
        config = peft.LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,  # type: ignore[arg-type]
                                 target_modules=lora.target_modules or None, task_type=task)
        try:
            adapted = peft.get_peft_model(module, config)
        except ValueError as exc:
            raise EngineError(f"LoRA cannot adapt this model: {_first_line(exc)}",
                              where=f"{WHERE}.lora.target_modules",
                              fix="name modules the model has (e.g. [\"query\", \"value\"] for BERT)") from None
        self._trained_names = [name for name, p in adapted.named_parameters() if p.requires_grad]
        return adapted

    # ------------------------------------------------------------------ data

    def load_splits(self, run: Run) -> dict[str, Any]:
        import transformers

        m, d = self.options.model, self.options.data
        source = m.tokenizer or m.pretrained
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                source, trust_remote_code=m.trust_remote_code, **({"revision": m.revision} if m.revision else {}))
        except (OSError, ValueError) as exc:
            where = f"{WHERE}.model.tokenizer" if m.tokenizer else f"{WHERE}.model.pretrained"
            raise EngineError(f"cannot load the tokenizer of {source!r}: {_first_line(exc)}", where=where,
                              fix="point it at a folder holding the tokenizer's files") from None
        collator = transformers.DataCollatorWithPadding(self.tokenizer, return_tensors="pt")
        cache = d.cache_dir or None  # None: datasets' own cache (HF_DATASETS_CACHE)
        num_labels = getattr(getattr(self.module, "config", None), "num_labels", None)
        splits: dict[str, Any] = {}
        for name, source_file in (("train", d.train), ("val", d.val), ("test", d.test)):
            if not source_file:
                continue
            where = f"{WHERE}.data.{name}"
            table = text_data.read_table(source_file, d, cache, where)
            if len(table) == 0:
                raise EngineError(f"{source_file!r} has no rows", where=where, fix="point to a file with rows")
            table = text_data.tokenised(table, self.tokenizer, d, where, num_labels=num_labels)
            splits[name] = text_data.TokenisedTexts(table, collator)
        return splits

    def setup(self, run: Run) -> None:
        super().setup(run)
        # Fetch padded batches as they are, instead of splitting them into rows that the torch
        # backend's default collation stacks again (about 2% of a tiny model's step). Batches
        # fetched by DataLoader workers (num_workers > 0) still go through __getitems__.
        for batches in (self.train_batches, self.val_batches, self.test_batches):
            dataset = getattr(batches, "dataset", None)
            if isinstance(dataset, text_data.TokenisedTexts) and callable(getattr(batches, "fetch", None)):
                batches.fetch = _batch_fetcher(dataset)  # type: ignore[union-attr]

    # ------------------------------------------------------------------ checkpoints

    def model_state(self) -> dict[str, torch.Tensor]:
        """With LoRA, the trained tensors only (adapters and the new head); the frozen base is the
        checkpoint's, loaded again at resume."""
        full = self.module.state_dict()
        if self._trained_names is None:
            return full
        return {name: full[name] for name in self._trained_names}

    def load_model_state(self, tensors: dict[str, torch.Tensor], where: str) -> None:
        if self._trained_names is None:
            super().load_model_state(tensors, where)
            return
        expected, saved = set(self._trained_names), set(tensors)
        if expected != saved:
            raise CheckpointError(f"the checkpoint's adapters do not fit this model ({len(saved - expected)} "
                                  f"unexpected, {len(expected - saved)} missing)", where=where,
                                  fix="resume with the [backend.lora] that wrote the checkpoint")
        self.module.load_state_dict(tensors, strict=False)

    # ------------------------------------------------------------------ export

    def export(self, directory: Path, tag: str) -> Path | None:
        """``<directory>/<tag>/``: the model and its tokenizer by ``save_pretrained``, loadable
        with ``from_pretrained`` (with LoRA: the adapters, or the merged model with ``merge``)."""
        tensors = None
        if self.strategy is not None:
            tensors = self.strategy.full_state(self.module)
            if tensors is None:
                return None
        model: Any = self.module
        lora = self.options.lora
        if lora is not None and lora.merge:
            model = copy.deepcopy(self.module)
            if tensors is not None:
                model.load_state_dict(tensors)
                tensors = None
            model = model.merge_and_unload()
        target = directory / tag
        partial = directory / f".{tag}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        model.save_pretrained(partial, **({"state_dict": tensors} if tensors is not None else {}))
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(partial)
        old = directory / f".{tag}.old"
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(partial, target)
        shutil.rmtree(old, ignore_errors=True)
        return target


def _batch_fetcher(dataset: text_data.TokenisedTexts) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    return lambda index: dataset.batch(index.tolist())


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__
