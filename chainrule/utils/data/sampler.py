"""Samplers (torch.utils.data.sampler): what order a DataLoader visits a dataset's indices in.

Everything random draws from chainrule's generator (or the `generator=` given), so a seed
fixes the order of every epoch.
"""

from __future__ import annotations

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler"]


class Sampler:
    """Yields dataset indices; subclasses define `__iter__` (and `__len__`)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh seeded permutation every epoch (or `num_samples` draws with replacement).

    Indices are drawn as the loader asks for them, a block at a time, as PyTorch does: with
    `replacement=True, num_samples=10**10` the first batch comes at once, and memory holds
    one block (not ten billion indices). Without replacement, `num_samples` above the
    dataset's length chains whole permutations, each made when reached.
    """

    _BLOCK = 1024  # draws per call to the generator when sampling with replacement

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        # as PyTorch: checked on the effective count, so an empty dataset is refused here
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        from chainrule.random import numpy_rng

        rng = numpy_rng(self.generator)
        n = len(self.data_source)
        if n == 0:
            raise ValueError("RandomSampler: the dataset is empty, there is no index to draw")
        remaining = self.num_samples
        while remaining > 0:
            if self.replacement:
                block = rng.integers(0, n, min(remaining, self._BLOCK))
            else:
                block = rng.permutation(n)[:remaining]
            remaining -= len(block)
            yield from block.tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a seeded random order."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = generator

    def __iter__(self):
        from chainrule.random import numpy_rng

        order = numpy_rng(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of `batch_size` (the last may be short)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
