"""Reductions: many elements to fewer. Also softmax and log-softmax, fused for stability.

`axis` is None (everything), an int or a tuple of ints, already checked and made
non-negative by the Tensor method; `keepdims` keeps reduced axes as size 1.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule.autograd.function import Op
from chainrule.ops.shape import Expand, Reshape


def _kept_shape(shape: tuple, axis) -> tuple:
    """The shape of a reduction over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(g, in_shape: tuple, axis, keepdims: bool):
    """Broadcast a reduction's gradient back over the reduced axes."""
    if not keepdims:
        g = Reshape.apply(g, _kept_shape(in_shape, axis))
    return Expand.apply(g, in_shape) if g.array.shape != in_shape else g


class MinMaxResult(NamedTuple):
    """(values, indices), as torch.return_types.max / min."""

    values: object
    indices: object


class Sum(Op):
    """Sum over `axis`.

    forward:   out = x.sum(axis, keepdims)
    backward:  gx = expand(g, x.shape)         # every input element contributes with weight 1
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return _unreduce(g, ctx.in_shape, ctx.axis, ctx.keepdims), None, None


class Mean(Op):
    """Mean over `axis`.

    forward:   out = x.sum(axis) / n,  n = number of elements reduced
    backward:  gx = expand(g, x.shape) / n
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.n = x.size // max(int(np.prod(_kept_shape(x.shape, axis))), 1) if x.size else 0
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        gx = _unreduce(g, ctx.in_shape, ctx.axis, ctx.keepdims)
        return gx / ctx.n if ctx.n else gx, None, None
