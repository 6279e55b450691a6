"""Fine-tuning from a local checkpoint through the CLI: training, the model's loss and the
engine's metrics, export with save_pretrained and reload with from_pretrained, text files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import transformers
from hf_helpers import base_spec, engine, make_task, read_rows, summary, write_spec


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task(tmp_path_factory.mktemp("task"))


@pytest.fixture
def folder(task: Path, tmp_path: Path) -> Path:
    """A fresh working folder holding the task's checkpoint and files."""
    for name in ("ckpt", "train.csv", "val.csv"):
        source = task / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="module")
def trained(task: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One offline run of the base spec; its run directory."""
    folder = tmp_path_factory.mktemp("trained")
    for name in ("ckpt", "train.csv", "val.csv"):
        source = task / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / name)
    write_spec(folder, base_spec())
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no progress bars or advice from the libraries
    return folder / "run"


def _predict(model_dir: Path, rows: list[tuple[str, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of the model saved in ``model_dir`` on ``rows`` (batched with its own tokenizer), and labels."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        batch = tokenizer([text for text, _ in rows], padding=True, return_tensors="pt")
        logits = model(**batch).logits
    return logits, torch.tensor([label for _, label in rows])


def test_fine_tunes_from_a_local_checkpoint_offline(trained: Path) -> None:
    result = summary(trained)
    assert result["status"] == "completed" and result["steps"] == 96
    assert result["metrics"]["val/accuracy"] >= 0.9  # chance is 0.5
    assert {"val/loss", "val/accuracy", "val/f1", "train/loss"} <= set(result["metrics"])
    assert not any(p.name == ".hf" for p in trained.iterdir())  # the datasets cache is not in the run dir


def test_export_reloads_with_from_pretrained_and_predicts_as_evaluated(trained: Path) -> None:
    """model/final is a save_pretrained folder (model and tokenizer); reloaded, it scores the
    validation rows exactly as the run's last evaluation did (accuracy) and to 1e-5 (the model's loss)."""
    final = trained / "model" / "final"
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in final.iterdir()}
    assert (trained / "model" / "best" / "config.json").exists()
    logits, labels = _predict(final, read_rows(trained.parent / "val.csv"))
    metrics = summary(trained)["metrics"]
    assert (logits.argmax(-1) == labels).double().mean().item() == metrics["val/accuracy"]
    loss = torch.nn.functional.cross_entropy(logits.double(), labels).item()
    assert loss == pytest.approx(metrics["val/loss"], abs=1e-5)


def test_the_model_loss_and_a_named_loss_on_its_logits_agree(folder: Path, trained: Path) -> None:
    """loss = "model" (the model's own, from the batch's labels) trains exactly as cross_entropy
    on the logits the engine's metrics read."""
    write_spec(folder, base_spec(loss="cross_entropy"))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder)
    assert result.returncode == 0, result.stderr
    named, own = summary(folder / "run")["metrics"], summary(trained)["metrics"]
    for key in ("val/loss", "val/accuracy", "train/loss"):
        assert named[key] == pytest.approx(own[key], rel=1e-6), key


def test_text_pairs_from_jsonl_and_parquet(folder: Path) -> None:
    """Two text columns (tokenised as a pair), renamed label column, JSON lines and Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name in ("train", "val"):
        rows = read_rows(folder / f"{name}.csv")
        records = [{"premise": text.split()[0], "hypothesis": text, "y": label} for text, label in rows]
        if name == "train":
            (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        else:
            pq.write_table(pa.Table.from_pylist(records), folder / "val.parquet")
    data = {"train": "train.jsonl", "val": "val.parquet", "text": "premise", "text_pair": "hypothesis",
            "label": "y", "max_length": 32}
    write_spec(folder, base_spec(data=data))
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert summary(folder / "run")["metrics"]["val/accuracy"] >= 0.7


def test_already_tokenised_data(folder: Path) -> None:
    """A file with input_ids (and attention_mask) is used as it is, padded per batch."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder / "ckpt")
    for name in ("train", "val"):
        rows = read_rows(folder / f"{name}.csv")
        lines = []
        for text, label in rows:
            encoded = tokenizer(text)
            lines.append(json.dumps({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
                                     "label": label}))
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    write_spec(folder, base_spec(data={"train": "train.jsonl", "val": "val.jsonl"}))
    tokenised = engine("run", "spec.toml", "--run-dir", "tokenised", "-q", cwd=folder)
    assert tokenised.returncode == 0, tokenised.stderr
    write_spec(folder, base_spec())
    texts = engine("run", "spec.toml", "--run-dir", "texts", "-q", cwd=folder)
    assert texts.returncode == 0, texts.stderr
    # the same tokens (no token_type_ids in the file: BERT's default zeros) give the same run
    tokens, texts_metrics = summary(folder / "tokenised")["metrics"], summary(folder / "texts")["metrics"]
    for key in ("val/loss", "val/accuracy", "train/loss"):
        assert tokens[key] == texts_metrics[key], key


def test_batches_are_padded_to_their_own_longest_row(folder: Path) -> None:
    """The tokenizer's collator pads each batch to its longest row, not the whole set's."""
    from engine_transformers.options import TextDataOptions
    from engine_transformers.text_data import TokenisedTexts, read_table, tokenised

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder / "ckpt")
    options = TextDataOptions(train="train.csv", val="val.csv")
    table = tokenised(read_table(str(folder / "train.csv"), options, str(folder / ".cache"), "x"), tokenizer,
                      options, "x", num_labels=2)
    lengths = [len(ids) for ids in table["input_ids"]]
    short = sorted(range(len(lengths)), key=lengths.__getitem__)[:4]
    texts = TokenisedTexts(table, transformers.DataCollatorWithPadding(tokenizer))
    assert tuple(texts.batch(short)["input_ids"].shape) == (4, lengths[short[-1]])
    rows = texts.__getitems__(short)
    assert len(rows) == 4 and {tuple(r["input_ids"].shape) for r in rows} == {(lengths[short[-1]],)}
    assert max(lengths) > lengths[short[-1]]
    assert all(int(r["attention_mask"].sum()) == lengths[i] for r, i in zip(rows, short, strict=True))
    assert sorted(rows[0]) == ["attention_mask", "input_ids", "labels"]


@pytest.mark.parametrize(("setting", "place"), [
    ('backend.data.text="body"', "backend.data.text: no text column 'body'"),
    ('backend.data.label="y"', "backend.data.label: no label column 'y'"),
    ('backend.model.hf="NoSuchModel"', "backend.model.hf: transformers has no model class 'NoSuchModel'"),
    ('backend.model.pretrained="missing"', "backend.model.pretrained: cannot load"),
    ("backend.model.num_labels=3", "backend.model.num_labels: the checkpoint 'ckpt' has weights of other shapes"),
    ('backend.data.train="nothere.csv"', "backend.data.train: cannot read 'nothere.csv': no such file"),
])
def test_a_mistake_is_one_line_and_leaves_no_run_directory(folder: Path, setting: str, place: str) -> None:
    write_spec(folder, base_spec())
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", "--set", setting, cwd=folder)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"engine: error: {place}") and result.stderr.count("\n") == 1, result.stderr
    assert not (folder / "run").exists()


def test_labels_outside_the_head_are_refused(folder: Path) -> None:
    rows = read_rows(folder / "train.csv")
    (folder / "train.csv").write_text("text,label\n" + "".join(f"{t},{label * 2}\n" for t, label in rows))
    write_spec(folder, base_spec())
    result = engine("run", "spec.toml", "--run-dir", "run", "-q", cwd=folder)
    assert result.returncode == 2
    assert result.stderr.strip() == ("engine: error: backend.data.train: labels run from 0 to 2, outside 0..1 — "
                                     "set model.num_labels = 3, or relabel the data")


def test_check_refuses_what_run_would_refuse(folder: Path) -> None:
    write_spec(folder, base_spec())
    result = engine("check", "spec.toml", "--set", 'backend.data.text="body"', cwd=folder)
    assert result.returncode == 2
    assert result.stderr.startswith("engine: error: backend.data.text: no text column 'body'")
    assert not (folder / "runs").exists()
