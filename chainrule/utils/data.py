"""Datasets and (later) loaders, with torch.utils.data's names and semantics."""

from __future__ import annotations

from typing import Generic, TypeVar

T_co = TypeVar("T_co", covariant=True)

__all__ = ["Dataset"]


class Dataset(Generic[T_co]):
    """An indexable collection of samples: subclass it and write `__getitem__`.

    As in PyTorch, `__getitem__(index)` returns one sample (for supervised data usually an
    `(input, target)` pair) and most subclasses also write `__len__`, which samplers and
    loaders need. `Dataset` itself defines neither length nor iteration: Python's fallback
    iteration calls `__getitem__(0)`, `(1)`, ... until an IndexError, so a `__getitem__`
    that raises IndexError past the end makes the dataset iterable too.
    """

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError(
            f"{type(self).__name__} is a Dataset but does not implement __getitem__(index); "
            "subclasses of chainrule.utils.data.Dataset must define it (and usually __len__)"
        )
