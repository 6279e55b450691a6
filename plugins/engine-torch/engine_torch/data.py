"""Batches of a dataset in an order that depends only on (seed, epoch), from any position.

Training order: epoch ``e`` of a run with seed ``s`` visits the training set in the order
``torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(s, e)))`` (``range(n)``
with ``shuffle = false``), cut into consecutive batches of ``batch_size``. Nothing else — not
the number of workers, not an earlier interruption — changes it, so a resumed run starts
at batch ``k`` of the epoch without fetching batches ``0..k-1``.

Where the dataset can be indexed by a batch of indices (a ``TensorDataset``, a ``Subset`` of
one, or a dataset with ``__getitems__``), a batch is fetched in one call and collated once.

Across several processes (``run.world_size > 1``) every process derives the same global
order, cuts it into global batches of ``batch_size`` and keeps its contiguous slice of each
batch (``tensor_split`` by rank): a resume at batch ``k`` is exact on every process. Evaluation
data is split once, each process taking a contiguous part of the set.

A ready ``DataLoader`` is used as it is: its order is its own (seed its sampler yourself),
batches are fetched item by item unless it says otherwise, and a mid-epoch resume iterates
(fetches, without training on) the batches already seen to reach its position. Across several
processes its batches are global too: every process iterates the whole loader and keeps its
contiguous slice of each batch (every tensor cut along dim 0 by rank), for training and
evaluation alike. A loader whose sampler is a ``DistributedSampler`` already gives each process
its own part and is left as it is.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader, Subset, TensorDataset, default_collate
from torch.utils.data._utils.pin_memory import pin_memory as pin
from torch.utils.data.distributed import DistributedSampler

from engine import UserCodeError, pool_error
from engine_torch.usercode import user_traceback

Batch = Any
Fetch = Callable[[torch.Tensor], Batch]


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of epoch ``epoch``'s shuffle."""
    return (seed * 1_000_003 + epoch) % (2**63)


def epoch_order(n: int, seed: int, epoch: int, *, shuffle: bool = True) -> torch.Tensor:
    """Indices of the training set in the order epoch ``epoch`` visits them."""
    if not shuffle:
        return torch.arange(n)
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))


def batch_fetcher(dataset: Any, name: str = "train") -> Fetch:
    """A function from a tensor of indices to a collated batch, fetching whole batches where it can."""
    base, mapping = dataset, None
    if isinstance(dataset, Subset) and isinstance(dataset.dataset, TensorDataset):
        base, mapping = dataset.dataset, torch.as_tensor(dataset.indices)
    if isinstance(base, TensorDataset):
        tensors = base.tensors
        # index_select is about 3x cheaper than advanced indexing (t[index]) for a batch of rows
        if mapping is None and len(tensors) == 2:
            inputs, targets = tensors
            return lambda index: (inputs.index_select(0, index), targets.index_select(0, index))
        if mapping is None:
            return lambda index: tuple(t.index_select(0, index) for t in tensors)
        return lambda index: tuple(t.index_select(0, mapping[index]) for t in tensors)
    getitems = getattr(dataset, "__getitems__", None)
    if callable(getitems):
        return lambda index: _collated(_getitems(getitems, index.tolist(), name), index, name)
    return lambda index: _collated(_items(dataset, index.tolist(), name), index, name)


def _items(dataset: Any, indices: list[int], name: str) -> list[Any]:
    """``dataset[i]`` for each index; an exception is the user's, naming the item."""
    items = []
    index = -1
    try:
        for index in indices:
            items.append(dataset[index])
    except Exception as exc:
        raise UserCodeError(f"the {name} dataset's item {index} raised {type(exc).__name__}: {exc}",
                            user_traceback=user_traceback(exc)) from None
    return items


def _getitems(getitems: Callable[[list[int]], Any], indices: list[int], name: str) -> Any:
    try:
        return getitems(indices)
    except Exception as exc:
        raise UserCodeError(f"the {name} dataset's __getitems__ raised {type(exc).__name__}: {exc}",
                            user_traceback=user_traceback(exc)) from None


def _collated(items: Any, index: torch.Tensor, name: str) -> Batch:
    """``default_collate(items)``; items it cannot batch (None, tensors of different shapes) are
    the dataset's mistake, named with their indices."""
    try:
        return default_collate(items)
    except Exception as exc:
        indices = index.tolist()
        missing = [i for i, item in zip(indices, items, strict=False) if item is None]
        if missing:
            what = f"item {missing[0]} is None"
        else:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            what = f"items {_shown(indices)} cannot be batched together: {detail}"
        raise UserCodeError(f"the {name} dataset's {what}", fix="make every item a tensor, a number, or a tuple or "
                            "dict of them, with the same shapes for every item") from None


def _shown(indices: list[int]) -> str:
    return ", ".join(map(str, indices[:4])) + (", ..." if len(indices) > 4 else "")


class DatasetBatches:
    """The batches of a map-style dataset: seeded order, whole-batch fetches, optional workers."""

    def __init__(self, dataset: Any, *, batch_size: int, shuffle: bool, drop_last: bool,
                 num_workers: int = 0, pin_memory: bool = False, name: str = "train"):
        self.dataset = dataset
        self.name = name
        self.size = _length(dataset, name)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.fetch = batch_fetcher(dataset, name)
        #: ``(rank, world_size, within_batches)`` when several processes share the data.
        self.sharding: tuple[int, int, bool] | None = None

    def shard(self, rank: int, world_size: int, *, within_batches: bool) -> None:
        """Keep this process's part: a slice of every batch (training) or of the whole set."""
        self.sharding = (rank, world_size, within_batches) if world_size > 1 else None

    def first_batch(self) -> Batch:
        """Items ``0 .. batch_size-1``, fetched and collated in this process (not by workers)."""
        return self.fetch(torch.arange(min(self.batch_size, self.size)))

    def __len__(self) -> int:
        if self.drop_last:
            return self.size // self.batch_size
        return -(-self.size // self.batch_size)

    def indices(self, seed: int, epoch: int) -> Sequence[torch.Tensor]:
        order = epoch_order(self.size, seed, epoch, shuffle=self.shuffle)
        if self.sharding is not None and not self.sharding[2]:
            rank, world, _ = self.sharding
            return order.tensor_split(world)[rank].split(self.batch_size)
        batches = order.split(self.batch_size)[: len(self)]
        if self.sharding is not None:
            rank, world, _ = self.sharding
            return [batch.tensor_split(world)[rank] for batch in batches]
        return batches

    def iterate(self, seed: int, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Batches ``start, start+1, ...`` of epoch ``epoch``."""
        batches = self.indices(seed, epoch)[start:]
        if self.num_workers > 0:
            loader = DataLoader(self.dataset, batch_sampler=[b.tolist() for b in batches],
                                num_workers=self.num_workers, pin_memory=self.pin_memory,
                                generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))
            try:
                return iter(loader)
            except (RuntimeError, OSError) as exc:  # the worker processes could not start
                error = pool_error(exc, where="backend.num_workers", what=f"{self.num_workers} data loader workers")
                if error is None:
                    raise
                raise error from None
        fetch = self.fetch
        if self.pin_memory:
            return (pin(fetch(index)) for index in batches)
        return map(fetch, batches)


class LoaderBatches:
    """A user's ``DataLoader``, used as it is; a resume skips ahead by iterating it."""

    def __init__(self, loader: DataLoader):  # type: ignore[type-arg]
        self.loader = loader
        #: ``(rank, world_size)`` when this process keeps a slice of every batch.
        self.sharding: tuple[int, int] | None = None

    @property
    def shards_itself(self) -> bool:
        """Whether the loader's sampler already gives each process its own part."""
        samplers = (self.loader.sampler, getattr(self.loader.batch_sampler, "sampler", None))
        return any(isinstance(sampler, DistributedSampler) for sampler in samplers)

    def shard(self, rank: int, world_size: int, *, within_batches: bool) -> None:
        """Keep this process's slice of every batch, unless the loader shards itself.

        A loader's batches are cut whatever ``within_batches`` says (its set cannot be split once).
        """
        self.sharding = (rank, world_size) if world_size > 1 and not self.shards_itself else None

    def last_batch_rows(self) -> int:
        """Rows of a short last batch: 0 when every batch is full, the last is dropped, or unknown."""
        loader = self.loader
        if loader.batch_size is None or loader.drop_last:
            return 0
        try:
            return len(loader.sampler) % loader.batch_size  # type: ignore[arg-type]
        except TypeError:  # the sampler of an iterable dataset has no length
            return 0

    def __len__(self) -> int:
        return len(self.loader)

    def iterate(self, seed: int, epoch: int, start: int = 0) -> Iterator[Batch]:
        for owner in (self.loader.sampler, self.loader.batch_sampler):
            set_epoch = getattr(owner, "set_epoch", None)
            if callable(set_epoch):
                set_epoch(epoch)
        batches = itertools.islice(iter(self.loader), start, None)
        if self.sharding is None:
            return batches
        rank, world = self.sharding
        return (slice_batch(batch, rank, world) for batch in batches)


def batches_of(source: Any, *, batch_size: int, shuffle: bool, drop_last: bool, num_workers: int,
               pin_memory: bool, name: str = "train") -> DatasetBatches | LoaderBatches:
    """Batches of a dataset or of a ready DataLoader; ``name`` is the split, for error messages."""
    if isinstance(source, DataLoader):
        return LoaderBatches(source)
    return DatasetBatches(source, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                          num_workers=num_workers, pin_memory=pin_memory, name=name)


def _length(dataset: Any, name: str) -> int:
    """``len(dataset)``: a dataset without one, or whose ``__len__`` fails, is refused in one line."""
    if not callable(getattr(dataset, "__len__", None)):
        raise UserCodeError(f"the data function's {name!r} split is a {type(dataset).__name__}, not a dataset "
                            "(it has no length)", where="backend.data",
                            fix="return a map-style Dataset (with __len__ and __getitem__), or a DataLoader")
    try:
        return len(dataset)
    except Exception as exc:
        raise UserCodeError(f"len() of the {name} dataset raised {type(exc).__name__}: {exc}",
                            user_traceback=user_traceback(exc)) from None


def slice_batch(batch: Batch, rank: int, world_size: int) -> Batch:
    """Process ``rank``'s contiguous slice (``tensor_split`` along dim 0) of every tensor of ``batch``."""
    if isinstance(batch, torch.Tensor):
        return batch.tensor_split(world_size)[rank] if batch.ndim else batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(slice_batch(item, rank, world_size) for item in batch)
    if isinstance(batch, dict):
        return {key: slice_batch(value, rank, world_size) for key, value in batch.items()}
    return batch


def to_device(batch: Batch, device: torch.device, non_blocking: bool = False) -> Batch:
    """``batch`` (tensors in tuples, lists and dicts) on ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(item, device, non_blocking) for item in batch)
    if isinstance(batch, dict):
        return {key: to_device(value, device, non_blocking) for key, value in batch.items()}
    return batch


def cast_floating(batch: Batch, dtype: torch.dtype) -> Batch:
    """Floating-point tensors of ``batch`` in ``dtype`` (for the ``*-true`` precisions)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(dtype) if batch.is_floating_point() else batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(cast_floating(item, dtype) for item in batch)
    if isinstance(batch, dict):
        return {key: cast_floating(value, dtype) for key, value in batch.items()}
    return batch
