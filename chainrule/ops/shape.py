"""Shape ops: they move elements around without computing with them.

The gradient of a shape op moves the gradient back: reshape undoes reshape, a permutation is
undone by the inverse permutation, an expansion by summing over the expanded axes.
`Reshape`, `Permute` and `Expand` return NumPy views, so they share memory (and the version
counter) with their input, as PyTorch's views do.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd.function import Op
from chainrule.autograd.views import recorded


def sum_to(g, shape: tuple):
    """Sum the gradient `g` down to `shape`, undoing NumPy broadcasting (identity if equal).

    Backward rules call this on every broadcast input; it runs the SumTo op when the result
    needs a history (`recorded`), else sums in NumPy directly.
    """
    gshape = g.array.shape
    if gshape == shape:
        return g
    if recorded(g):
        return SumTo.apply(g, tuple(shape))
    return Tensor._make(_sum_to(g.array, tuple(shape)), None, 0, False)


def _sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
    # Broadcasting (1) prepends axes and (2) stretches size-1 axes: sum over both kinds.
    xshape = x.shape  # (NumPy builds this tuple anew at each access)
    lead = len(xshape) - len(shape)
    axes = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and xshape[lead + i] != 1:
            axes.append(lead + i)
    return np.add.reduce(x, axis=tuple(axes), dtype=x.dtype).reshape(shape)


class SumTo(Op):
    """Sum x down to `shape`, the shape it was broadcast from.

    forward:   out = x summed over the prepended and the stretched size-1 axes
    backward:  gx = broadcast_to(g, x.shape)          # the transpose of a sum is a copy
    jvp:       t_out = sum_to(tx, shape)
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return _sum_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return Expand.apply(g, ctx.in_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return SumTo.apply(tx, ctx.inputs[1])


class Reshape(Op):
    """The same elements in a new shape (a view when NumPy can make one).

    forward:   out = x.reshape(shape)
    backward:  gx = g.reshape(x.shape)
    jvp:       t_out = tx.reshape(shape)              # a view op moves the tangent as it moves x
    """

    grad_fn_name = "ViewBackward0"  # PyTorch names reshape/view/flatten of a tensor so

    is_view = True
    may_copy = True  # a view when NumPy can make one, else a copy

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return Reshape.apply(g, ctx.in_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Reshape.apply(tx, ctx.inputs[1])


class Permute(Op):
    """Reorder the axes: out axis i is input axis axes[i] (a view).

    forward:   out = x.transpose(axes)
    backward:  gx = g.transpose(argsort(axes))      # the inverse permutation
    jvp:       t_out = tx.transpose(axes)
    """

    is_view = True  # always: NumPy returns a view

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, g):
        axes = ctx.axes
        return _permute(g, tuple(sorted(range(len(axes)), key=axes.__getitem__))), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Permute.apply(tx, ctx.axes)


def _permute(g, axes: tuple):
    """g with its axes reordered, in a backward rule: the Permute op when the result needs a
    history (`recorded`), else a NumPy view, as `sum_to` does."""
    if recorded(g):
        return Permute.apply(g, axes)
    return Tensor._make(g.array.transpose(axes), None, 0, False)


class Expand(Op):
    """Broadcast to a larger shape without copying (a read-only view).

    forward:   out = broadcast_to(x, shape)
    backward:  gx = sum_to(g, x.shape)
    jvp:       t_out = broadcast_to(tx, shape)
    """

    is_view = True  # always: NumPy returns a view

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Expand.apply(tx, ctx.inputs[1])


class Flip(Op):
    """Reverse the order along `axes`.

    backward:  gx = flip(g, axes)
    jvp:       t_out = flip(tx, axes)
    """

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()  # PyTorch's flip copies

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.axes), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Flip.apply(tx, ctx.axes)


class Tri(Op):
    """Lower (tril) or upper (triu) triangle of the last two axes, the rest zero.

    forward:   out = tril(x, k) or triu(x, k)
    backward:  gx = the same triangle of g        # the mask is linear
    jvp:       t_out = the same triangle of tx
    """

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return Tri.apply(g, ctx.k, ctx.upper), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return Tri.apply(tx, ctx.k, ctx.upper)


class Diag(Op):
    """1-D to 2-D: a matrix with x on diagonal k. 2-D to 1-D: diagonal k of x.

    forward:   out = diag(x, k)
    backward:  1-D input: gx = diagonal k of g;   2-D input: gx = matrix with g on diagonal k
               (padded with zeros to x's shape: the diagonal of a non-square matrix)
    jvp:       t_out = diag(tx, k)
    """

    @staticmethod
    def forward(ctx, x, k):
        ctx.in_shape, ctx.k = x.shape, k
        return np.diag(x, k).copy()

    @staticmethod
    def backward(ctx, g):
        if len(ctx.in_shape) == 1:
            return Diag.apply(g, ctx.k), None
        return _DiagEmbed.apply(g, ctx.k, ctx.in_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Diag.apply(tx, ctx.k)


class _DiagEmbed(Op):
    """Put the 1-D g on diagonal k of a zero matrix of `shape` (the transpose of Diag 2-D->1-D).

    backward:  gx = diagonal k of g
    jvp:       t_out = tx on diagonal k of a zero matrix of `shape`
    """

    @staticmethod
    def forward(ctx, x, k, shape):
        ctx.k = k
        out = np.zeros(shape, dtype=x.dtype)
        n = x.shape[0]
        rows = np.arange(n) + max(-k, 0)
        out[rows, rows + k] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return Diag.apply(g, ctx.k), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return _DiagEmbed.apply(tx, ctx.k, ctx.inputs[2])


class Cat(Op):
    """Join tensors along an existing axis.

    forward:   out = concatenate(xs, axis)
    backward:  gx_i = the slice of g that x_i filled
    jvp:       t_out = concatenate(txs, axis)          # zeros for an integer x_i
    """

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        grads, start = [None], 0
        needs = ctx.needs_input_grad
        for i, size in enumerate(ctx.sizes):
            if needs[i + 1]:
                key = (slice(None),) * ctx.axis + (slice(start, start + size),)
                grads.append(g[key])
            else:
                grads.append(None)
            start += size
        return tuple(grads)

    @staticmethod
    def jvp(ctx, _, *txs):
        dtype = ctx.outputs[0].array.dtype
        return Cat.apply(ctx.axis, *(
            Tensor._make(np.zeros(x.array.shape, dtype), None, 0, False) if t is None else t
            for x, t in zip(ctx.inputs[1:], txs)))


from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports this module
