"""Datasets, samplers and DataLoader, with torch.utils.data's names, semantics and module
layout (`dataset`, `sampler`, `dataloader`), so `torch.utils.data.dataloader.DataLoader`
is the same class as `torch.utils.data.DataLoader`.

A DataLoader turns a Dataset into minibatches: a sampler yields indices (in order, or a
seeded permutation), a batch sampler groups them, and `collate_fn` stacks the samples of a
batch into tensors. Everything random draws from chainrule's generator (or the `generator=`
given), so a seed fixes the order of every epoch.
"""

from chainrule.utils.data import dataloader, dataset, sampler
from chainrule.utils.data.dataloader import DataLoader, default_collate, get_worker_info
from chainrule.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate",
    "random_split", "dataloader", "dataset", "sampler", "ChainDataset", "IterableDataset",
    "get_worker_info",
]
