"""DataLoader (torch.utils.data.dataloader): a Dataset as minibatches.

A sampler yields indices (in order, or a seeded permutation), a batch sampler groups them, and
`collate_fn` stacks the samples of a batch into tensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from chainrule.utils.data.dataset import (  # noqa: F401 - torch has Dataset here too
    Dataset,
    IterableDataset,
    TensorDataset,
)
from chainrule.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "get_worker_info"]


def get_worker_info():
    """None: the code runs in the main process, never in a loader worker (chainrule has none),
    which is what PyTorch returns outside workers."""
    return None


def default_collate(batch):
    """Stack a list of samples: tensors -> one tensor with a batch dim, numbers -> a tensor,
    tuples/dicts -> the same structure of stacked fields (as torch's default_collate)."""
    from chainrule import stack, tensor
    from chainrule.tensor import Tensor

    first = batch[0]
    if isinstance(first, Tensor):
        return stack(list(batch), 0)
    if isinstance(first, np.ndarray):
        return tensor(np.stack(batch))
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, (int, np.integer)):
        return tensor(batch)
    if isinstance(first, (float, np.floating)):
        from chainrule import float64

        return tensor(batch, dtype=float64)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(first, Sequence):
        sizes = {len(s) for s in batch}
        if len(sizes) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__}")


class DataLoader:
    """Iterate over a dataset in minibatches: `for x, y in DataLoader(ds, batch_size=64)`.

    shuffle=True draws a new seeded order every epoch; `sampler`/`batch_sampler` replace the
    default ordering; `drop_last` drops a short final batch. With a TensorDataset and the
    default collate, a batch is gathered with one fancy-index per tensor (no per-sample loop).

    The worker options are PyTorch's and are checked as PyTorch checks them. chainrule loads
    every batch in the calling process, so `num_workers > 0` gives the batches, in the order,
    that PyTorch's workers give (`in_order=True`) or may give (`in_order=False`); what only a
    worker process can use (`worker_init_fn`, `multiprocessing_context`, `prefetch_factor`,
    `persistent_workers`, `timeout`) has no process to act on, and `pin_memory=True` warns, as
    PyTorch does on a machine with no accelerator.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, multiprocessing_context=None, generator=None,
                 *, prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            _check_iterable_options(shuffle, sampler, batch_sampler)
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        _check_worker_options(num_workers, timeout, multiprocessing_context, prefetch_factor,
                              persistent_workers, worker_init_fn)
        _check_pin_memory(pin_memory, pin_memory_device)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.generator = generator
        # the worker options, kept for code that reads them back (`loader.num_workers`)
        self.num_workers, self.timeout, self.worker_init_fn = num_workers, timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.in_order = in_order
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (iterable and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if self._auto_collation else
                                         (lambda x: x))

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
            return
        if not self._auto_collation:
            for idx in self.sampler:
                yield self.collate_fn(self.dataset[idx])
            return
        from chainrule import tensor

        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for indices in self.batch_sampler:
            if fast:
                idx = tensor(np.asarray(indices, dtype=np.int64))
                yield [t[idx] for t in self.dataset.tensors]
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iter_stream(self):
        """An IterableDataset: its items in order, grouped into batches of batch_size."""
        if not self._auto_collation:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


def _check_worker_options(num_workers, timeout, multiprocessing_context, prefetch_factor,
                          persistent_workers, worker_init_fn) -> None:
    """PyTorch's checks of the worker options, with its messages; and a warning where an
    option needs a worker process to act in."""
    if num_workers < 0:
        raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                         "disable multiprocessing.")
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("prefetch_factor option could only be specified in multiprocessing. "
                         "let num_workers > 0 to enable multiprocessing, otherwise set "
                         "prefetch_factor to None.")
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    if multiprocessing_context is not None and num_workers == 0:
        raise ValueError(f"multiprocessing_context can only be used with multi-process "
                         f"loading (num_workers > 0), but got num_workers={num_workers}")
    if worker_init_fn is not None and num_workers > 0:
        import warnings

        warnings.warn("DataLoader: worker_init_fn is not called: chainrule loads every batch "
                      "in the main process, so there is no worker to set up", UserWarning,
                      stacklevel=3)


def _check_pin_memory(pin_memory, pin_memory_device) -> None:
    """Pinned memory speeds copies to a GPU; with none, PyTorch warns and goes on unpinned."""
    if pin_memory or pin_memory_device:
        import warnings

        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                      "then device pinned memory won't be used.", UserWarning, stacklevel=3)


def _check_iterable_options(shuffle, sampler, batch_sampler) -> None:
    """An IterableDataset gives its own order: no shuffle or sampler can apply to it."""
    for name, value in (("shuffle", shuffle), ("sampler", sampler),
                        ("batch_sampler", batch_sampler)):
        if value not in (None, False):
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} "
                             f"option, but got {name}={value}")
