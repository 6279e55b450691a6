"""LoRA through peft: only the adapters (and the new head) train and are checkpointed; the
export is the adapters (loaded with peft over the base) or, with merge, a plain model."""

from __future__ import annotations

from pathlib import Path

import peft
import pytest
import safetensors.torch
import torch
import transformers
from hf_helpers import (
    base_spec,
    checkpoint_model_tensors,
    comparable,
    copy_task,
    engine,
    make_task,
    read_rows,
    summary,
    write_spec,
)

LORA = {"r": 4, "alpha": 8.0, "target_modules": ["query", "value"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same LoRA run twice: ``adapters`` exported as adapters, ``merged`` with merge = true."""
    folder = copy_task(make_task(tmp_path_factory.mktemp("task")), tmp_path_factory.mktemp("lora"))
    for name, merge in (("adapters", False), ("merged", True)):
        spec = base_spec(lora={**LORA, "merge": merge}, optimizer={"use": "adamw", "lr": 0.01})
        spec["loop"]["max_epochs"] = 2
        write_spec(folder, spec)
        result = engine("run", "spec.toml", "--run-dir", name, "-q", cwd=folder)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
    return folder


def _logits(model: torch.nn.Module, folder: Path) -> torch.Tensor:
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder / "ckpt")
    rows = read_rows(folder / "val.csv")
    with torch.no_grad():
        return model.eval()(**tokenizer([t for t, _ in rows], padding=True, return_tensors="pt")).logits


def test_checkpoints_hold_only_the_trained_adapters_and_head(runs: Path) -> None:
    checkpoints = sorted((runs / "adapters" / "checkpoints").glob("step-*"))
    assert checkpoints
    tensors = checkpoint_model_tensors(checkpoints[-1])
    assert tensors and all("lora_" in key or "classifier" in key for key in tensors), sorted(tensors)
    assert any("lora_A" in key for key in tensors) and any("classifier" in key for key in tensors)
    assert not any("embeddings" in key for key in tensors)


def test_adapters_load_with_peft_and_merge_into_a_plain_model(runs: Path) -> None:
    """Both exports of the same run give the same predictions; the merged one is a plain
    transformers model whose frozen weights are the base checkpoint's."""
    base = transformers.AutoModelForSequenceClassification.from_pretrained(runs / "ckpt")
    adapted = peft.PeftModel.from_pretrained(base, runs / "adapters" / "model" / "final")
    assert {p.name for p in (runs / "adapters" / "model" / "final").iterdir()} >= {
        "adapter_config.json", "adapter_model.safetensors", "tokenizer.json"}

    merged_dir = runs / "merged" / "model" / "final"
    merged = transformers.AutoModelForSequenceClassification.from_pretrained(merged_dir)
    weights = safetensors.torch.load_file(str(merged_dir / "model.safetensors"))
    assert not any("lora" in key for key in weights)
    original = safetensors.torch.load_file(str(runs / "ckpt" / "model.safetensors"))
    embeddings = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(weights[embeddings], original[embeddings])  # frozen
    query = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(weights[query], original[query])  # the adapter merged into it

    from_adapters, from_merged = _logits(adapted, runs), _logits(merged, runs)
    torch.testing.assert_close(from_merged, from_adapters, atol=1e-5, rtol=1e-5)
    labels = torch.tensor([label for _, label in read_rows(runs / "val.csv")])
    accuracy = (from_merged.argmax(-1) == labels).double().mean().item()
    assert accuracy == summary(runs / "merged")["metrics"]["val/accuracy"]
    assert comparable(summary(runs / "merged")["metrics"]) == comparable(summary(runs / "adapters")["metrics"])
