"""MNIST for the labs: whole tensors in memory, a seeded minibatch loop, batched evaluation.

No DataLoader: each epoch draws one permutation from the lab's generator and slices it, so a
minibatch is one fancy-indexing call (much faster than collating 128 single images), and
the same seed gives the same batches.
"""

from __future__ import annotations

import chainrule as torch
from chainrule.labs._core import LabSkipped

_CACHE: dict = {}


def load_mnist(data_dir, train_limit: int | None = None, val_limit: int | None = None,
               flat: bool = False):
    """(x_train, y_train, x_val, y_val): float32 pixels / 255, int64 labels.

    The validation set is MNIST's 10,000 test images (the course reports accuracy on a held-out
    set of that kind). `*_limit` keeps the first N images (the quick configs). `flat` gives
    (N, 784) rows for MLPs, else (N, 1, 28, 28) images. Raises LabSkipped, saying how to get
    the data, when the files are not there."""
    from chainrule.datasets import MNIST

    key = str(data_dir)
    if key not in _CACHE:
        try:
            train, test = MNIST(data_dir, train=True), MNIST(data_dir, train=False)
        except FileNotFoundError:
            raise LabSkipped(
                f"MNIST not found under {data_dir}. Get it once with `chainrule data download "
                "mnist` (or point --data-dir / $CHAINRULE_DATA at a directory holding the four "
                "MNIST files), then run this lab again.") from None
        _CACHE[key] = (train.data, train.targets, test.data, test.targets)
    xtr, ytr, xva, yva = _CACHE[key]
    if train_limit is not None:
        xtr, ytr = xtr[:train_limit], ytr[:train_limit]
    if val_limit is not None:
        xva, yva = xva[:val_limit], yva[:val_limit]
    shape = (-1, 784) if flat else (-1, 1, 28, 28)
    return (xtr.float().div(255).reshape(shape), ytr, xva.float().div(255).reshape(shape), yva)


def minibatches(n: int, batch_size: int, generator):
    """Index tensors of one epoch's shuffled minibatches."""
    order = torch.randperm(n, generator=generator)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]
