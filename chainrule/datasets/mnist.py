"""MNIST and Fashion-MNIST as torchvision shapes them, from verified local files.

    train = MNIST(root=None, train=True, download=False)
    image, label = train[0]          # float32 tensor (1, 28, 28) in [0, 1], int
    train.data, train.targets        # uint8 tensor (60000, 28, 28), int64 tensor (60000,)

Where the files are looked for, in order (see `download.search_dirs`):

1. `ROOT/MNIST/raw/` (`ROOT/FashionMNIST/raw/`): where downloads go; torchvision's layout.
2. `ROOT/` itself: a directory that just holds the four files, like `../shared/data/mnist`.
3. FashionMNIST only: `/usr/share/datasets/fashion-mnist/`, where Debian's package
   `dataset-fashion-mnist` installs them.

Each file may be gzipped (`name.gz`) or raw IDX (`name`, as torchvision extracts it), and the
first one found is the one used. `ROOT` defaults to `$CHAINRULE_DATA`, else
`~/.cache/chainrule`. Every file is verified by the SHA-256 of its IDX content before use.

Errors: missing files raise FileNotFoundError (with the checksums, the directories searched
and the command that fetches them); a corrupt file raises ValueError (`ChecksumError`)
naming it; a failed download raises DownloadError (a RuntimeError).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from chainrule.datasets import download as dl
from chainrule.datasets.idx import ChecksumError, read_idx
from chainrule.utils.data import Dataset


def _shared_tensor(array_attr: str, doc: str) -> property:
    """A property over the NumPy array in `array_attr`: read, a tensor sharing its memory
    (made on first read); assigned a tensor or an array, that replaces the array."""
    cache = array_attr + "_tensor"

    def read(self):
        if self.__dict__.get(cache) is None:
            import chainrule

            self.__dict__[cache] = chainrule.from_numpy(getattr(self, array_attr))
        return self.__dict__[cache]

    def assign(self, value) -> None:
        setattr(self, array_attr, _as_array(value))
        self.__dict__[cache] = value if hasattr(value, "numpy") else None

    return property(read, assign, doc=doc)


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, 0-9.

    Arguments as torchvision.datasets.MNIST:
      root:             data directory (None: `$CHAINRULE_DATA` or `~/.cache/chainrule`).
      train:            the 60,000 training images if True, else the 10,000 test images.
      download:         fetch missing files from the mirrors (verified, atomic, once).
      transform:        applied to each image tensor in `__getitem__`.
      target_transform: applied to each label in `__getitem__`.

    `dataset[i]` is `(image, label)`: `image` a float32 tensor of shape (1, 28, 28) with
    values in [0, 1] (pixel / 255) and `label` an int. torchvision gives a PIL image there,
    and `transforms.ToTensor()` turns it into exactly this tensor, so code that composes
    ToTensor first should simply drop it (a `transform` here receives the tensor).
    `.data` (uint8, (N, 28, 28)) and `.targets` (int64, (N,)) hold everything at once, for
    vectorised use such as `train.data.float() / 255`.
    """

    spec: dl.DatasetSpec = dl.MNIST_SPEC
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.root = dl.resolve_root(root)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images_name, labels_name = self._split_files()
        self.files = {}
        images = self._load(images_name, download)
        labels = self._load(labels_name, download)
        _check_pair(
            images, labels, self.files[images_name], self.files[labels_name], len(self.classes)
        )
        # NumPy copies kept for indexing speed; .data / .targets are made on first access.
        self._images = images
        self._labels = labels.astype(np.int64)

    def _split_files(self) -> tuple[str, str]:
        names = self.spec.file_names
        return (names[0], names[1]) if self.train else (names[2], names[3])

    def _load(self, name: str, download: bool) -> np.ndarray:
        """Read one file, verifying its content checksum in the same pass.

        The first candidate found is used (another dataset's file of the same name is passed
        over, see `download.owner_of`). If it is missing or bad and `download` is set, a
        verified copy is fetched into `raw_folder`, which is searched first from then on.
        """
        sha256 = self.spec.file(name).sha256
        for path in dl.candidates(self.spec, name, self.root):
            if not path.is_file():
                continue
            try:
                array = read_idx(path, sha256=sha256)
            except ChecksumError as e:
                if dl.owner_of(e.found) is not None:
                    continue
                if download:
                    break
                raise ChecksumError(
                    f"{e}{self._fix(path)}", path=e.path, expected=e.expected, found=e.found
                ) from None
            except ValueError as e:
                if download:
                    break
                raise ValueError(f"{e}{self._fix(path)}") from None
            self.files[name] = path
            return array
        else:
            if not download:
                raise FileNotFoundError(dl.missing_message(self.spec, self.root))
        path = dl.fetch(self.spec, self.root, names=[name])[name]
        self.files[name] = path
        return read_idx(path, sha256=sha256)

    def _fix(self, path: Path) -> str:
        return (
            f"\nDelete {path} and fetch the file again: chainrule data download "
            f"{self.spec.name} --root {self.root} (or pass download=True)."
        )

    data = _shared_tensor(
        "_images",
        """All images as a uint8 tensor of shape (N, 28, 28) (0 background, 255 ink).

        It shares memory with what `dataset[i]` reads, and may be assigned (as in
        torchvision, `train.data = train.data[:1000]` keeps the first 1000 images).""")
    targets = _shared_tensor(
        "_labels", "All labels as an int64 tensor of shape (N,); may be assigned, as `data`.")

    @property
    def raw_folder(self) -> Path:
        """Where `download=True` puts the files (torchvision's name for it)."""
        return dl.download_dir(self.spec, self.root)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, index):
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__} indices must be integers, got {type(index).__name__}"
            ) from None
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__} index {i} out of range for {n} samples")
        import chainrule

        # Exactly torchvision's ToTensor: float32 division by 255, so results agree bit for bit.
        pixels = self._images[i].astype(np.float32)[None] / np.float32(255)
        image = chainrule.from_numpy(pixels)
        target = int(self._labels[i])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing.

    Same arguments and behaviour as `MNIST`. Files live in `ROOT/FashionMNIST/raw/` (or
    directly in `ROOT`), and, as a last resort, where Debian's `dataset-fashion-mnist`
    package installs them (`/usr/share/datasets/fashion-mnist`), which makes
    `apt-get install dataset-fashion-mnist` a way to get the data without a download.
    """

    spec = dl.FASHION_MNIST_SPEC
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


def _check_pair(images, labels, images_path, labels_path, n_classes: int) -> None:
    """The two files of a split must describe the same examples: catch a mixed-up pair."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path}: expected uint8 images of shape (N, rows, cols), "
            f"found {images.dtype} of shape {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{labels_path}: expected uint8 labels of shape (N,), "
            f"found {labels.dtype} of shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} "
            "labels; the two files are from different splits or datasets"
        )
    if labels.size and labels.max() >= n_classes:
        raise ValueError(
            f"{labels_path}: label {int(labels.max())} is out of range for {n_classes} classes"
        )


def _as_array(value) -> np.ndarray:
    """A tensor's (or array-like's) NumPy array, without a copy where possible."""
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)
