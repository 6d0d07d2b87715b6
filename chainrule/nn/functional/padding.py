"""pad: constant, reflect, replicate and circular padding of the last dims."""

from __future__ import annotations

import numpy as np

from chainrule.nn.functional._utils import check_tensor
from chainrule.ops import conv as ops


def _pad_index(size: int, before: int, after: int, mode: str, op: str) -> np.ndarray:
    """Source positions for one padded axis (reflect / replicate / circular)."""
    pos = np.arange(-before, size + after)
    if mode == "reflect":
        if before >= size or after >= size:
            raise RuntimeError(f"{op}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension "
                               f"of size {size}")
        period = 2 * (size - 1)
        pos = np.abs(pos) % period if period else np.zeros_like(pos)
        return np.where(pos >= size, period - pos, pos)
    if mode == "replicate":
        if size == 0:
            raise RuntimeError(f"{op}: replicate padding of an empty dimension")
        return np.clip(pos, 0, size - 1)
    if before > size or after > size:
        raise RuntimeError(f"{op}: Padding value causes wrapping around more than once "
                           f"(padding ({before}, {after}) for a dimension of size {size})")
    return pos % size


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)/2 dims: pad = (last_before, last_after, prev_before, ...).

    mode: 'constant' (with value; negative pads crop), 'reflect', 'replicate', 'circular'.
    """
    op = "pad"
    check_tensor(input, op)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"{op}: Padding length must be divisible by 2 and at most twice the "
                           f"number of dims ({input.ndim}), got {len(pad)}")
    k = len(pad) // 2
    per_dim = [(0, 0)] * (input.ndim - k) + [(pad[2 * i], pad[2 * i + 1])
                                             for i in reversed(range(k))]
    if mode == "constant":
        if all(p == 0 for p in pad):
            return input
        return ops.ConstantPad.apply(input, tuple(per_dim), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"{op}: mode {mode!r} is not one of 'constant', 'reflect', "
                                  f"'replicate', 'circular'")
    if value not in (None, 0):
        raise RuntimeError(f"{op}: padding mode {mode!r} doesn't take in value argument")
    if not input.ndim - 1 <= k + 1 <= input.ndim:
        raise NotImplementedError(f"{op}: {mode} padding of the last {k} dim(s) needs a "
                                  f"{k + 1}-D (unbatched) or {k + 2}-D (batched) input, got "
                                  f"{input.ndim}-D")
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is only supported in 'constant' mode")
    out = input
    for axis in range(input.ndim - k, input.ndim):
        before, after = per_dim[axis]
        if before or after:
            index = _pad_index(input.array.shape[axis], before, after, mode, op)
            out = out[(slice(None),) * axis + (index,)]
    return out
