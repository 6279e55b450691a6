"""A ready DataLoader across processes: each keeps its slice of every batch, unless it shards itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from engine_torch.data import LoaderBatches
from torch.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset
from torch.utils.data.distributed import DistributedSampler


class Records(Dataset):  # type: ignore[type-arg]
    """Items of a dict and a tuple, so batches nest: {"x": tensor, "pair": [tensor, tensor]}."""

    def __init__(self, n: int):
        self.x = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"x": self.x[i], "pair": (torch.tensor(i), self.x[i].sum())}


class Stream(IterableDataset):  # type: ignore[type-arg]
    """Ten numbers, of no known length."""

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter(torch.arange(10))


def batches(loader: DataLoader, rank: int | None = None, world: int = 2) -> list[Any]:  # type: ignore[type-arg]
    source = LoaderBatches(loader)
    if rank is not None:
        source.shard(rank, world, within_batches=True)
    return list(source.iterate(seed=0, epoch=0))


def test_two_processes_keep_complementary_halves_of_every_batch() -> None:
    x, y = torch.randn(10, 4), torch.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)  # batches of 4, 4, 2
    whole, first, second = batches(loader), batches(loader, 0), batches(loader, 1)
    assert len(first) == len(second) == len(whole) == 3
    for full, a, b in zip(whole, first, second, strict=True):
        assert len(a[0]) == len(b[0]) == len(full[0]) // 2  # contiguous halves, in rank order
        assert torch.equal(torch.cat([a[0], b[0]]), full[0]) and torch.equal(torch.cat([a[1], b[1]]), full[1])


def test_nested_batches_are_cut_in_every_tensor() -> None:
    loader = DataLoader(Records(6), batch_size=6)
    [full], [a], [b] = batches(loader), batches(loader, 0), batches(loader, 1)
    assert a["pair"][0].tolist() == [0, 1, 2] and b["pair"][0].tolist() == [3, 4, 5]
    assert torch.equal(torch.cat([a["x"], b["x"]]), full["x"])
    assert torch.equal(torch.cat([a["pair"][1], b["pair"][1]]), full["pair"][1])


def test_a_resumed_epoch_starts_at_the_same_slice() -> None:
    loader = DataLoader(TensorDataset(torch.arange(12)), batch_size=4)
    source = LoaderBatches(loader)
    source.shard(1, 2, within_batches=True)
    assert [b[0].tolist() for b in source.iterate(seed=0, epoch=0, start=1)] == [[6, 7], [10, 11]]


@pytest.mark.parametrize("inside_batch_sampler", [False, True])
def test_a_loader_with_a_distributed_sampler_is_left_as_it_is(inside_batch_sampler: bool) -> None:
    data = TensorDataset(torch.arange(8))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    if inside_batch_sampler:
        loader = DataLoader(data, batch_sampler=torch.utils.data.BatchSampler(sampler, 2, drop_last=False))
    else:
        loader = DataLoader(data, batch_size=2, sampler=sampler)
    expected = [b[0].tolist() for b in batches(loader)]
    assert expected == [[1, 3], [5, 7]]  # the sampler's own part for rank 1
    assert [b[0].tolist() for b in batches(loader, 1)] == expected


def test_one_process_keeps_every_batch_whole() -> None:
    loader = DataLoader(TensorDataset(torch.arange(6)), batch_size=3)
    source = LoaderBatches(loader)
    source.shard(0, 1, within_batches=True)
    assert [b[0].tolist() for b in source.iterate(seed=0, epoch=0)] == [[0, 1, 2], [3, 4, 5]]


def test_the_rows_of_a_short_last_batch_are_known_where_the_loader_has_a_length() -> None:
    data = TensorDataset(torch.arange(10))
    assert LoaderBatches(DataLoader(data, batch_size=4)).last_batch_rows() == 2
    assert LoaderBatches(DataLoader(data, batch_size=4, drop_last=True)).last_batch_rows() == 0
    assert LoaderBatches(DataLoader(data, batch_size=5)).last_batch_rows() == 0
    assert LoaderBatches(DataLoader(Stream(), batch_size=4)).last_batch_rows() == 0
