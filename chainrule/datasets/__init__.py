"""Datasets for the labs: Iris (bundled), MNIST and Fashion-MNIST (verified download, cache).

    from chainrule.datasets import iris, MNIST, FashionMNIST

    X, y, class_names = iris()                        # no download: the file ships inside
    train = MNIST(root=None, train=True, download=False)
    image, label = train[0]                           # float32 (1, 28, 28) in [0, 1], int

Data lives under `$CHAINRULE_DATA` or `~/.cache/chainrule` unless `root` says otherwise;
`chainrule data download mnist` fetches MNIST once, `chainrule data info` shows what is there.
Every file is checked (IDX structure and content SHA-256) before it is used. See `mnist`
for where files are searched, `download` for mirrors, checksums and atomic writes, and `idx`
for the file format.

Importing this package does not import the tensor core; tensors are made when asked for.
"""

from chainrule.datasets.download import (
    FASHION_MNIST_SPEC,
    MNIST_SPEC,
    DatasetSpec,
    DownloadError,
    FileSpec,
    default_root,
    fetch,
)
from chainrule.datasets.idx import ChecksumError, read_idx, write_idx
from chainrule.datasets.iris import Iris, iris, load_iris_arrays
from chainrule.datasets.mnist import MNIST, FashionMNIST

__all__ = [
    "MNIST",
    "FashionMNIST",
    "iris",
    "load_iris_arrays",
    "Iris",
    "read_idx",
    "write_idx",
    "fetch",
    "default_root",
    "DatasetSpec",
    "FileSpec",
    "MNIST_SPEC",
    "FASHION_MNIST_SPEC",
    "ChecksumError",
    "DownloadError",
]
