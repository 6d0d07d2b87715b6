"""Fisher's Iris, from the UCI `iris.data` file shipped inside the package (no download).

    X, y, class_names = iris()          # float64 tensor (150, 4), int64 tensor (150,)
    X, y, class_names = iris(as_numpy=True)

This is the UCI version of the file, with its two known differences from Fisher's paper
(rows 35 and 38), because the course material's numbers come from it: the mean-centred
features have a rank-2 truncated-SVD loss ||A - A_2||_F^2 of 15.229 (scikit-learn's
corrected copy gives 15.205). The bundled file is checked against its SHA-256 on every load,
so an edited or damaged install is an error, not a silently different dataset.

Licence: CC BY 4.0. Fisher, R. A. (1936). Iris [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C56C76. Donor: Michael Marshall. See data/IRIS_LICENSE.txt.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any, NamedTuple

import numpy as np

IRIS_SHA256 = "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0"
IRIS_FEATURE_NAMES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                      "petal width (cm)")  # fmt: skip


class Iris(NamedTuple):
    """The Iris data: `data` (150, 4) float64, `target` (150,) int64 in 0..2, and the class
    names in the order they first appear in the file (so `class_names[target[i]]` is row i's).
    Unpacks as `X, y, class_names = iris()`; `Iris.feature_names` names the columns."""

    data: Any
    target: Any
    class_names: tuple[str, ...]

    feature_names = IRIS_FEATURE_NAMES


def _read_bundled() -> bytes:
    raw = (resources.files("chainrule.datasets") / "data" / "iris.data").read_bytes()
    found = hashlib.sha256(raw).hexdigest()
    if found != IRIS_SHA256:
        raise ValueError(
            f"chainrule/datasets/data/iris.data: SHA-256 is {found}, expected {IRIS_SHA256} "
            "(the UCI file). The installed copy was changed or damaged; reinstall chainrule."
        )
    return raw


def load_iris_arrays() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(features float64 (150, 4), labels int64 (150,), class names) as NumPy arrays."""
    rows, labels = [], []
    for line in _read_bundled().decode("ascii").splitlines():
        if not line.strip():
            continue  # the file ends with a blank line
        *features, name = line.split(",")
        rows.append([float(v) for v in features])
        labels.append(name)
    class_names = tuple(dict.fromkeys(labels))  # file order, each once
    index = {name: i for i, name in enumerate(class_names)}
    data = np.array(rows, dtype=np.float64)
    target = np.array([index[name] for name in labels], dtype=np.int64)
    return data, target, class_names


def iris(as_numpy: bool = False) -> Iris:
    """Load Iris: `Iris(data, target, class_names)` with chainrule tensors (float64 features,
    int64 labels), or NumPy arrays when `as_numpy=True`."""
    data, target, class_names = load_iris_arrays()
    if not as_numpy:
        import chainrule

        data, target = chainrule.from_numpy(data), chainrule.from_numpy(target)
    return Iris(data, target, class_names)
