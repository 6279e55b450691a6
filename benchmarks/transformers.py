"""Tokens per second fine-tuning a transformer: the engine's ``transformers`` backend vs a plain
transformers/torch loop, on the same tiny model and data, side by side in one run.

    python benchmarks/transformers.py            # prints markdown; --rounds N, --steps N

Both variants train examples/data/tiny-bert (a 2-layer BERT, hidden size 32) on
examples/data/sentiment_train.csv as examples/text_classification_transformers.toml does:
micro-batches of 16 padded per batch by ``DataCollatorWithPadding``, 2 accumulated per AdamW
step, gradients clipped to norm 1, one thread, CPU.

- ``engine``: ``engine run`` of the example in-process (``engine.testing.run_spec``), without
  evaluation or checkpoints, timed between two ``on_step`` events (setup and tokenisation outside).
- ``plain loop``: ``from_pretrained``, ``datasets`` ``map`` tokenisation, a shuffled
  ``DataLoader`` with the collator, then zero_grad / forward (the model's loss) / backward /
  clip / step, timed over the same steps.

Tokens are the rows' real (unpadded) tokens: steps x 32 rows x the training set's mean tokens per
row, the same for both (their row orders differ, their expectation does not). Rounds are
interleaved and the median is reported; the ratio is engine over plain (above 1: the engine is faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder leads sys.path and its name would shadow the library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
EXAMPLE = REPO / "examples" / "text_classification_transformers.toml"
WARMUP = 10


def _example() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text())


def _path(relative: str) -> str:
    return str(REPO / relative)


def mean_tokens_per_row() -> float:
    import transformers

    backend = _example()["backend"]
    tokenizer = transformers.AutoTokenizer.from_pretrained(_path(backend["model"]["pretrained"]))
    import csv

    with open(_path(backend["data"]["train"]), encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=backend["data"]["max_length"])
               ["input_ids"]]
    return sum(lengths) / len(lengths)


def time_engine(steps: int) -> float:
    """Seconds per optimizer step of the example run by the engine."""
    from engine import hookimpl
    from engine.testing import run_spec

    marks: dict[int, float] = {}

    class Clock:
        @hookimpl
        def on_step(self, run: Any) -> None:
            if run.step in (WARMUP, steps):
                marks[run.step] = time.perf_counter()

    spec = _example()
    backend = spec["backend"]
    backend["model"]["pretrained"] = _path(backend["model"]["pretrained"])
    backend["data"] = {**backend["data"], "train": _path(backend["data"]["train"]),
                       "val": _path(backend["data"]["val"])}
    backend["data"].pop("test", None)
    spec["loop"] = {"max_steps": steps, "eval_every": "never", "checkpoint_every": "never", "log_every": "20 steps"}
    spec["checkpoint"] = {"on_exit": False}
    with tempfile.TemporaryDirectory() as tmp:
        result = run_spec(spec, Path(tmp) / "run", plugins=[Clock()])
    assert result.status == "completed", result.summary
    return (marks[steps] - marks[WARMUP]) / (steps - WARMUP)


def time_plain(steps: int) -> float:
    """Seconds per optimizer step of a plain transformers/torch loop doing the same work."""
    import datasets
    import torch
    import transformers

    backend = _example()["backend"]
    torch.manual_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        _path(backend["model"]["pretrained"]), num_labels=2)
    tokenizer = transformers.AutoTokenizer.from_pretrained(_path(backend["model"]["pretrained"]))
    table = datasets.load_dataset("csv", data_files={"train": _path(backend["data"]["train"])}, split="train")
    max_length = backend["data"]["max_length"]
    table = table.map(lambda rows: tokenizer(rows["text"], truncation=True, max_length=max_length), batched=True)
    table = table.rename_column("label", "labels").remove_columns(["text"])
    loader = torch.utils.data.DataLoader(table, batch_size=backend["batch_size"], shuffle=True,
                                         collate_fn=transformers.DataCollatorWithPadding(tokenizer),
                                         generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters(), lr=backend["optimizer"]["lr"],
                                  weight_decay=backend["optimizer"]["weight_decay"])
    accumulate, clip = backend["accumulate"], backend["clip_norm"]
    model.train()
    step, micro, start = 0, 0, 0.0
    while step < steps:
        for batch in loader:
            loss = model(**batch).loss / accumulate
            loss.backward()
            micro += 1
            if micro % accumulate:
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            optimizer.zero_grad()
            step += 1
            if step == WARMUP:
                start = time.perf_counter()
            if step == steps:
                break
    return (time.perf_counter() - start) / (steps - WARMUP)


def measure(rounds: int, steps: int) -> dict[str, Any]:
    import datasets
    import torch
    import transformers

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    backend = _example()["backend"]
    rows_per_step = backend["batch_size"] * backend["accumulate"]
    tokens_per_step = rows_per_step * mean_tokens_per_row()
    times: dict[str, list[float]] = {"engine": [], "plain loop": []}
    for _ in range(rounds):
        times["engine"].append(time_engine(steps))
        times["plain loop"].append(time_plain(steps))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"tokens_per_step": tokens_per_step, "seconds_per_step": medians,
            "tokens_per_s": {name: tokens_per_step / value for name, value in medians.items()},
            "ratio": medians["plain loop"] / medians["engine"], "rounds": rounds, "steps": steps}


def markdown(results: dict[str, Any]) -> str:
    import torch
    import transformers

    lines = [f"Fine-tuning examples/data/tiny-bert, {results['steps'] - WARMUP} timed AdamW steps of 32 rows "
             f"({results['tokens_per_step']:.0f} tokens), median of {results['rounds']} interleaved rounds; "
             f"{platform.processor() or platform.machine()}, 1 thread, torch {torch.__version__}, "
             f"transformers {transformers.__version__}.", "",
             "| variant | ms / step | tokens / s |", "|---|---:|---:|"]
    for name, seconds in results["seconds_per_step"].items():
        lines.append(f"| {name} | {seconds * 1000:.1f} | {results['tokens_per_s'][name]:,.0f} |")
    lines += ["", f"engine / plain loop (tokens/s): **{results['ratio']:.3f}**"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--output", "-o", default=str(Path(__file__).resolve().parent / "results" / "transformers.md"))
    args = parser.parse_args()
    text = markdown(measure(args.rounds, args.steps))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
