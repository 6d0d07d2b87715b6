"""Dropout: elementwise and channel-wise (1d / 2d / 3d).

The masks come from the chainrule generator (chainrule.manual_seed), never from NumPy's global
random state.
"""

from __future__ import annotations

import warnings

import numpy as np

from chainrule.nn.functional._utils import check_tensor, nograd
from chainrule.random import numpy_rng
from chainrule.tensor import Tensor


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _drop(input, p, training, inplace, mask_shape, op):
    check_tensor(input, op)
    _check_p(p, op)
    if not training or p == 0.0:
        return input
    dt = input.array.dtype if input.array.dtype.kind == "f" else np.float32
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=dt)
    else:  # keep with probability 1 - p, scaled so that the expectation is unchanged
        keep = numpy_rng().random(mask_shape, dtype=np.float64 if dt == np.float64
                                  else np.float32) >= p
        mask = np.multiply(keep, dt.type(1.0 / (1.0 - p)), dtype=dt)  # one pass: 0 or scale
    m = nograd(mask)
    return input.mul_(m) if inplace else input * m


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    return _drop(input, p, training, inplace, input.array.shape if isinstance(input, Tensor)
                 else (), "dropout")


def _feature_drop(input, p, training, inplace, spatial, op):
    check_tensor(input, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{op}: Received a {input.ndim}-D input to {op}, which is deprecated: it "
                      f"exists to drop whole channels of inputs with {spatial} spatial "
                      f"dimension(s), a channel dimension and an optional batch dimension; use "
                      f"dropout instead", stacklevel=3)
    if spatial == 2 and input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. Use dropout1d for that instead.", stacklevel=3)
    shape = input.array.shape
    if input.ndim == spatial + 1 and spatial != 2:  # unbatched: one mask entry per channel
        mask_shape = shape[:1] + (1,) * (input.ndim - 1)
    else:
        mask_shape = shape[:2] + (1,) * (input.ndim - 2)
    return _drop(input, p, training, inplace, mask_shape, op)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    return _feature_drop(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) of (N, C, H, W) inputs."""
    return _feature_drop(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_drop(input, p, training, inplace, 3, "dropout3d")
