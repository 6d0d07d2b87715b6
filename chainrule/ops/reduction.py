"""Reductions: many elements to fewer. Also softmax and log-softmax, fused for stability.

`axis` is None (everything), an int or a tuple of ints, already checked and made
non-negative by the Tensor method; `keepdims` keeps reduced axes as size 1.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.autograd.function import Op
from chainrule.ops.elementwise import Div, Mul, Where
from chainrule.ops.shape import Expand, Flip, Reshape


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


class Sum(Op):
    """Sum over `axis`.

    forward:   out = x.sum(axis, keepdims)
    backward:  gx = expand(g, x.shape)         # every input element contributes with weight 1
    jvp:       t_out = sum(tx, axis)           # linear: the op applied to the tangent
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return _unreduce(g, ctx.in_shape, ctx.axis, ctx.keepdims), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return Sum.apply(tx, ctx.axis, ctx.keepdims)


class Mean(Op):
    """Mean over `axis`.

    forward:   out = x.sum(axis) / n,  n = number of elements reduced
    backward:  gx = expand(g, x.shape) / n
    jvp:       t_out = mean(tx, axis)
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.in_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        ctx.n = x.size // max(math.prod(_kept_shape(x.shape, axis)), 1) if x.size else 0
        if x.size == 0:  # 0 / 0 is NaN, without np.mean's "Mean of empty slice" warning
            with np.errstate(invalid="ignore"):
                total = np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
                return total / x.dtype.type(0)
        return np.add.reduce(x, axis=axis, keepdims=keepdims, dtype=x.dtype) / x.dtype.type(ctx.n)

    @staticmethod
    def backward(ctx, g):
        gx = _unreduce(g, ctx.in_shape, ctx.axis, ctx.keepdims)
        return gx / ctx.n if ctx.n else gx, None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return Mean.apply(tx, ctx.axis, ctx.keepdims)


def _keep(g, in_shape: tuple, axis, keepdims: bool):
    """A reduced tensor with its reduced axes put back as size 1 (it then broadcasts over x)."""
    return g if keepdims else Reshape.apply(g, _kept_shape(in_shape, axis))


class Prod(Op):
    """Product over `axis`.

    forward:   out = x.prod(axis, keepdims)
    backward:  gx_i = g * prod_{j != i} x_j      # the exclusive product along the reduced axes
               no zero in x:  gx = g * (out / x)    (PyTorch's rule, rounding included)
               zeros:  with P = prod of the nonzero x_j, S = sum of the zero x_j (0 in value,
               not in derivative) and c the zeros in the slice:
                   at a zero:     excl = P * (1 if c == 1, S - x if c == 2, else 0)
                   at a nonzero:  excl = P / x * (1 if c == 0, S if c == 1, else 0)
               Every branch equals prod_{j != i} x_j and has its derivative (c <= 1: exactly;
               c >= 2: to first order), so the second derivative is right too. No division by 0.
    jvp:       t_out = sum(tx * excl, axis),  excl_i = prod_{j != i} x_j   (the same branches)
    saved:     x, out
    edges:     an empty slice gives 1 and an empty gradient; overflow to inf as NumPy
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axis, ctx.keepdims = axis, keepdims
        out = np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        g = _keep(g, x.array.shape, ctx.axis, ctx.keepdims)
        return g * _exclusive_prod(x, out, ctx.axis, ctx.keepdims), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        excl = _exclusive_prod(ctx.inputs[0], ctx.outputs[0], ctx.axis, ctx.keepdims)
        return Sum.apply(tx * excl, ctx.axis, ctx.keepdims)


def _exclusive_prod(x, out, axis, keepdims: bool):
    """prod_{j != i} x_j along the reduced axes, for every i (Prod's derivative; see there)."""
    shape = x.array.shape
    zero = x.array == 0
    if not zero.any():
        return _keep(out, shape, axis, keepdims) / x
    c = zero.sum(axis=axis, keepdims=True)
    nz = Where.apply(zero, 1.0, x)
    p = Prod.apply(nz, axis, True)
    s = Sum.apply(Where.apply(zero, x, 0.0), axis, True)
    at_zero = Where.apply(c == 1, 1.0, Where.apply(c == 2, s - x, 0.0))
    at_nonzero = Where.apply(c == 0, 1.0, Where.apply(c == 1, s, 0.0)) / nz
    return p * Where.apply(zero, at_zero, at_nonzero)


class Amax(Op):
    """Largest (largest=True) or smallest element over `axis`; NaN wins, as in PyTorch.

    forward:   out = x.max(axis) or x.min(axis)
    backward:  gx = g / count * (x == out)      # ties share the gradient evenly (torch.amax)
    jvp:       t_out = sum(tx * (x == out), axis) / count     # the mean of the tied tangents
    saved:     x, out (the tie mask and its count per slice are constants of the rule, found
               from them: it is piecewise linear)
    edges:     a NaN in the slice: its gradient is NaN (torch.amax); with nan_ties=True
               (torch.max() with no dim) the NaN positions share it instead. The tangent of a
               NaN slice is NaN either way, as torch.func.jvp gives
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims, largest, *, nan_ties=False):
        ctx.axis, ctx.keepdims, ctx.nan_ties = axis, keepdims, nan_ties
        if x.ndim and any(x.shape[a] == 0 for a in _axis_tuple(axis, x.ndim)):
            name = "amax" if largest else "amin"
            d = next(a for a in _axis_tuple(axis, x.ndim) if x.shape[a] == 0)
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        out = np.asarray((np.max if largest else np.min)(x, axis=axis, keepdims=keepdims))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = (t.array for t in ctx.saved_tensors)
        g = _keep(g, x.shape, ctx.axis, ctx.keepdims)
        hit, count = _ties(x, out, ctx.axis, ctx.keepdims, ctx.nan_ties)
        if not (count == 1).all():  # a NaN slice has no tie (count 0): its gradient is NaN
            g = Div.apply(g, np.where(count == 0, np.nan, count).astype(x.dtype))
        return Mul.apply(g, hit.astype(x.dtype)), None, None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        x, out = ctx.inputs[0].array, ctx.outputs[0].array
        hit, count = _ties(x, out, ctx.axis, ctx.keepdims, False)  # torch: a NaN gives NaN
        t = Sum.apply(Mul.apply(tx, hit.astype(x.dtype)), ctx.axis, ctx.keepdims)
        if not (count == 1).all():
            kept = count if ctx.keepdims else count.reshape(t.array.shape)
            t = Div.apply(t, np.where(kept == 0, np.nan, kept).astype(x.dtype))
        return t


def _ties(x: np.ndarray, out: np.ndarray, axis, keepdims: bool, nan_ties: bool) -> tuple:
    """Where x attains its reduced extreme `out` (a mask of x's shape), and how many times
    per slice (kept dims); with nan_ties a NaN slice's NaNs count as the ties."""
    kept = out if keepdims else out.reshape(_kept_shape(x.shape, axis))
    hit = x == kept
    if nan_ties:
        hit |= np.isnan(x) & np.isnan(kept)
    return hit, hit.sum(axis=axis, keepdims=True)


def _axis_tuple(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _shift(x: np.ndarray, axis) -> np.ndarray:
    """The max over `axis` (kept dims) with infinities replaced by 0: what logsumexp subtracts.

    Subtracting +-inf would turn every term into NaN; with 0 instead an all -inf slice sums
    to 0 (log gives -inf) and a +inf element stays +inf, as in PyTorch. An empty slice has no
    max: 0 is as good as any.
    """
    if x.size == 0:
        return np.zeros(_kept_shape(x.shape, axis), dtype=x.dtype)
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isinf(m), x.dtype.type(0), m)
    return m


def _max(x: np.ndarray, axis):
    """The max over `axis` (kept dims) that softmax subtracts; 0 for an empty x (no max)."""
    return np.maximum.reduce(x, axis=axis, keepdims=True) if x.size else x.dtype.type(0)


class LogSumExp(Op):
    """log(sum(exp(x))) over `axis`, stable.

    forward:   m = max(x) (0 where infinite);  out = log(sum(exp(x - m))) + m
    backward:  gx = g * exp(x - out)           # = g * softmax(x)
    jvp:       t_out = sum(tx * exp(x - out), axis)
    saved:     x, out
    edges:     all -inf gives -inf; a +inf gives +inf; their gradients are NaN, as PyTorch
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axis, ctx.keepdims = axis, keepdims
        v, ax = (x.reshape(1), 0) if x.ndim == 0 else (x, axis)  # 0-d: NumPy returns scalars
        m = _shift(v, ax)
        e = v - m
        with np.errstate(divide="ignore", invalid="ignore"):
            np.exp(e, out=e)
            out = np.add.reduce(e, axis=ax, keepdims=True)
            np.log(out, out=out)
        out += m
        if x.ndim == 0 or not keepdims:
            out = out.reshape(()) if x.ndim == 0 else np.squeeze(out, axis)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape, axis, keep = x.array.shape, ctx.axis, ctx.keepdims
        return _keep(g, shape, axis, keep) * (x - _keep(out, shape, axis, keep)).exp(), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        (x,), (out,), axis, keep = ctx.inputs[:1], ctx.outputs, ctx.axis, ctx.keepdims
        p = (x - _keep(out, x.array.shape, axis, keep)).exp()
        return Sum.apply(tx * p, axis, keep)


class Softmax(Op):
    """exp(x) / sum(exp(x)) along `axis`, stable (the max is subtracted first).

    forward:   e = exp(x - max(x));  out = e / sum(e)
    backward:  gx = out * (g - sum(g * out))   # the Jacobian diag(out) - out out^T, applied to g
    jvp:       t_out = out * (tx - sum(tx * out))     # the same symmetric Jacobian, applied to tx
    saved:     out
    edges:     a slice of all -inf, or with a +inf, gives NaN (as PyTorch)
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis if x.ndim else None
        v, ax = (x.reshape(1), 0) if x.ndim == 0 else (x, axis)  # 0-d: NumPy returns scalars
        with np.errstate(invalid="ignore"):
            e = v - _max(v, ax)
            np.exp(e, out=e)
            e /= np.add.reduce(e, axis=ax, keepdims=True)
        e = e.reshape(x.shape)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - Sum.apply(g * out, ctx.axis, True)), None

    @staticmethod
    def jvp(ctx, tx, _):
        (out,) = ctx.outputs
        return out * (tx - Sum.apply(tx * out, ctx.axis, True))


class LogSoftmax(Op):
    """x - log(sum(exp(x))) along `axis`, stable.

    forward:   s = x - max(x);  out = s - log(sum(exp(s)))
    backward:  gx = g - exp(out) * sum(g)       # exp(out) is the softmax
    jvp:       t_out = tx - sum(exp(out) * tx)
    saved:     out
    edges:     a slice of all -inf, or with a +inf, gives NaN (as PyTorch)
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis if x.ndim else None
        v, ax = (x.reshape(1), 0) if x.ndim == 0 else (x, axis)  # 0-d: NumPy returns scalars
        with np.errstate(invalid="ignore", divide="ignore"):
            s = v - _max(v, ax)
            s -= np.log(np.add.reduce(np.exp(s), axis=ax, keepdims=True))
        s = s.reshape(x.shape)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - out.exp() * Sum.apply(g, ctx.axis, True), None

    @staticmethod
    def jvp(ctx, tx, _):
        (out,) = ctx.outputs
        return tx - Sum.apply(out.exp() * tx, ctx.axis, True)


class Cumsum(Op):
    """Running sum along `axis`; integers and bools sum in int64 (as PyTorch).

    forward:   out_i = sum_{j <= i} x_j
    backward:  gx_j = sum_{i >= j} g_i = flip(cumsum(flip(g)))     # a reversed running sum
    jvp:       t_out = cumsum(tx, axis)
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.ndim == 0:
            return x.astype(np.int64) if x.dtype.kind in "biu" else x.copy()
        dtype = np.int64 if x.dtype.kind in "biu" else x.dtype
        return np.cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        if g.array.ndim == 0 or g.array.shape[ctx.axis] == 1:
            return g, None
        return Flip.apply(Cumsum.apply(Flip.apply(g, (ctx.axis,)), ctx.axis), (ctx.axis,)), None

    @staticmethod
    def jvp(ctx, tx, _):
        return Cumsum.apply(tx, ctx.axis)


class Cumprod(Op):
    """Running product along `axis`; integers and bools multiply in int64 (as PyTorch).

    forward:   out_i = prod_{j <= i} x_j
    backward:  gx_j = sum_{i >= j} g_i * prod_{k <= i, k != j} x_k
               no zero in x:  gx = flip(cumsum(flip(g * out))) / x     # out_i / x_j
               zeros:  row i of the triangle M[i, k] = x_k if k <= i else 1 has product out_i,
               so gx_k = sum_i g_i * excl(M)[i, k] over k <= i, with excl Prod's exclusive
               product (no division by 0; right at one zero, at several, and to second order)
    jvp:       t_out_i = sum_{k <= i} tx_k * excl(M)[i, k]    (no zero: out * cumsum(tx / x))
    saved:     x, out
    edges:     at a zero, torch.func.jvp of PyTorch's jvp gives half the second derivative;
               this rule's is the whole one (finite differences check it)
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.dtype.kind in "biu":
            x = x.astype(np.int64)
        out = x.copy() if x.ndim == 0 else np.cumprod(x, axis=axis)
        if x.dtype.kind == "f":
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if x.array.ndim == 0:
            return g, None
        if not (x.array == 0).any():
            rev = Flip.apply(Cumsum.apply(Flip.apply(g * out, (ctx.axis,)), ctx.axis), (ctx.axis,))
            return rev / x, None
        weights = _triangle_excl(x, ctx.axis)                  # (..., i, k), zero where k > i
        gm = g.movedim(ctx.axis, -1).unsqueeze(-1)            # g_i along the rows
        return (gm * weights).sum(-2).movedim(-1, ctx.axis), None

    @staticmethod
    def jvp(ctx, tx, _):
        x, out = ctx.inputs[0], ctx.outputs[0]
        if x.array.ndim == 0:
            return tx
        if not (x.array == 0).any():
            return out * Cumsum.apply(tx / x, ctx.axis)
        weights = _triangle_excl(x, ctx.axis)
        tm = tx.movedim(ctx.axis, -1).unsqueeze(-2)           # tx_k along the columns
        return (tm * weights).sum(-1).movedim(-1, ctx.axis)


def _triangle_excl(x, axis: int):
    """W[..., i, k] = prod_{j <= i, j != k} x_j for k <= i, else 0 (axis moved last)."""
    xm = x.movedim(axis, -1)
    n = xm.array.shape[-1]
    lower = np.tril(np.ones((n, n), dtype=bool))               # k <= i
    m = Where.apply(lower, xm.unsqueeze(-2), 1.0)
    last = m.array.ndim - 1                                    # Prod takes non-negative axes
    rows = Prod.apply(m, last, False)
    return Where.apply(lower, _exclusive_prod(m, rows, last, False), 0.0)
