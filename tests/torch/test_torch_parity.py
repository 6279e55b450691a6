"""Parity: the engine trains the same bits as a hand-written PyTorch loop (as Lightning Fabric's test does).

"Same data order" means: epoch ``e`` of a run with seed ``s`` visits the training rows in the order
``torch.randperm(n, generator=torch.Generator().manual_seed((s * 1_000_003 + e) % 2**63))``, cut into
consecutive batches of ``batch_size`` (the last one smaller). The hand-written loop below does
exactly that; everything else is what any PyTorch user writes: seed, build the model, AdamW with
biases and normalisation weights undecayed, forward, loss, backward, step, zero_grad.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
import torchtoy
from torch_helpers import assert_bit_identical, base_spec, weights

from engine.testing import run_spec

SEED, EPOCHS, BATCH, LR, DECAY = 3, 3, 16, 0.01, 0.05


def hand_written(accumulate: int = 1) -> dict[str, torch.Tensor]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the spec asks the engine (threads = 1): reductions split alike
    try:
        return _train_by_hand(accumulate)
    finally:
        torch.set_num_threads(threads)


def _train_by_hand(accumulate: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(SEED)
    model = torchtoy.Tiny(dropout=0.1)
    x, y = torchtoy.datasets()["train"].tensors
    decayed = [model.inp.weight, model.out.weight]
    undecayed = [model.inp.bias, model.norm.weight, model.norm.bias, model.out.bias]
    optimizer = torch.optim.AdamW([{"params": decayed}, {"params": undecayed, "weight_decay": 0.0}],
                                  lr=LR, weight_decay=DECAY)
    for epoch in range(EPOCHS):
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed((SEED * 1_000_003 + epoch) % 2**63))
        batches = order.split(BATCH)
        for start in range(0, len(batches) - len(batches) % accumulate, accumulate):
            for index in batches[start:start + accumulate]:
                loss = F.cross_entropy(model(x[index]), y[index])
                (loss / accumulate if accumulate > 1 else loss).backward()
            optimizer.step()
            optimizer.zero_grad()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("accumulate", [1, 2])
def test_engine_matches_a_hand_written_loop_bit_for_bit(tmp_path: Path, accumulate: int) -> None:
    spec = base_spec(batch_size=BATCH, accumulate=accumulate,
                     optimizer={"use": "adamw", "lr": LR, "weight_decay": DECAY})
    spec["run"]["seed"] = SEED
    spec["loop"]["max_epochs"] = EPOCHS
    result = run_spec(spec, tmp_path / "run")
    assert result.status == "completed"
    assert_bit_identical(weights(tmp_path / "run/model/final.safetensors"), hand_written(accumulate))
