"""Matrix products and torch.linalg's ops. `MatMul` is the one primitive of the products; mm,
bmm, mv, dot, outer are checked forms of it. `Norm2` and `SVD` serve chainrule.linalg.

For out = a @ b with out[i, k] = sum_j a[i, j] b[j, k]:
    d out[i, k] / d a[i, j] = b[j, k]   so   ga = g @ b^T
    d out[i, k] / d b[j, k] = a[i, j]   so   gb = a^T @ g
Leading (batch) axes broadcast as in NumPy, so the batch axes of ga / gb are summed back to
the inputs' shapes. Vectors are made matrices first (PyTorch's rules) and squeezed after.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd.function import Op
from chainrule.autograd.views import recorded
from chainrule.ops.elementwise import _total, save_for_each_other
from chainrule.ops.reduction import Sum, _kept_shape
from chainrule.ops.shape import Permute, sum_to


class MatMul(Op):
    """Batched matrix product of two tensors with at least 2 dims each.

    forward:   out = a @ b
    backward:  ga = sum_to(g @ b.mT, a.shape)      gb = sum_to(a.mT @ g, b.shape)
    jvp:       t_out = ta @ b + a @ tb                # the product rule
    saved:     b if a needs a gradient, a if b does
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

    @staticmethod
    def grad_fn_name(node) -> str:  # PyTorch: mm for two matrices, a folded bmm otherwise
        return "MmBackward0" if all(len(s) == 2 for s in node.shapes) else "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        save_for_each_other(ctx, a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        ga = sum_to(_mm(g, b, transpose_b=True), sa) if need_a else None
        gb = sum_to(_mm(a, g, transpose_a=True), sb) if need_b else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        return _total(ctx, None if ta is None else _mm(ta, b), None if tb is None else _mm(a, tb))


# The helper of MatMul's rules (and Linear's): when the product needs no history (`recorded`:
# a plain backward, a first-order jvp) it multiplies in NumPy directly, else it runs the ops
# (their graph, their tangents), as `sum_to` does.

def _mT(x):
    """x with its last two axes swapped, as the (recorded) Permute op."""
    n = x.array.ndim
    return Permute.apply(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _mm(a, b, transpose_a: bool = False, transpose_b: bool = False):
    """a @ b for two Tensors of at least 2 dims, either one first transposed (its .mT)."""
    if not recorded(a, b):
        aa, ba = a.array, b.array
        return Tensor._make(np.matmul(aa.mT if transpose_a else aa, ba.mT if transpose_b else ba),
                            None, 0, False)
    return MatMul.apply(_mT(a) if transpose_a else a, _mT(b) if transpose_b else b)


class Norm2(Op):
    """The 2-norm sqrt(sum x^2) over axis (torch.linalg.vector_norm with ord=2).

    forward:   out = sqrt(sum(x * x, axis))
    backward:  gx = g * x / out,  with 0 where out == 0 (the subgradient PyTorch picks)
    jvp:       t_out = sum(x * tx, axis) / out,  0 where out == 0
    saved:     x, out
    """

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        # an ndarray (never a NumPy scalar) of x's dtype, so that the saved value is the output
        out = np.asarray(np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))).astype(
            x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdims, ctx.in_shape = axis, keepdims, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if not ctx.keepdims:
            kept = _kept_shape(ctx.in_shape, ctx.axis)
            g, out = g.reshape(kept), out.reshape(kept)
        safe = out.where(out != 0, 1.0)
        return (g * x / safe).where(out != 0, 0.0), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        (x,), (out,) = ctx.inputs[:1], ctx.outputs
        safe = out.where(out != 0, 1.0)
        return (Sum.apply(x * tx, ctx.axis, ctx.keepdims) / safe).where(out != 0, 0.0)


class SVD(Op):
    """Singular value decomposition x = U diag(S) Vh (torch.linalg.svd; forward only).

    forward:   U, S, Vh = svd(x), singular values in descending order
    backward:  not implemented: the rule (Townsend 2016) needs distinct singular values and
               is a project of its own. Raises a clear error rather than a wrong gradient.
    """

    jvp_reason = ("the SVD's derivative (Townsend 2016) needs distinct singular values and "
                  "is not implemented, in either mode")

    @staticmethod
    def forward(ctx, x, full_matrices):
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        return u.astype(x.dtype), s.astype(x.dtype), vh.astype(x.dtype)

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        raise NotImplementedError(
            "the backward of linalg.svd is not implemented in chainrule; compute the SVD "
            "under torch.no_grad() or on x.detach() when you only need its values"
        )


def _check_pair(a, b, op: str) -> None:
    from chainrule.tensor import Tensor

    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}(): expected Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need at least 1 dimension, got "
                           f"{a.ndim}D and {b.ndim}D tensors (use * for scalars)")


def _promote(a, b):
    if a.array.dtype != b.array.dtype:
        from chainrule import dtypes

        dt = dtypes.result_type(a, b)
        a, b = a.to(dt), b.to(dt)
    return a, b


def matmul(a, b):
    """a @ b with PyTorch's rules for 1-D operands and broadcast batch axes."""
    sa, sb = getattr(a, "array", None), getattr(b, "array", None)
    if sa is not None and sb is not None and sa.ndim == 2 and sb.ndim == 2 and \
            sa.shape[1] == sb.shape[0] and sa.dtype == sb.dtype:
        return MatMul.apply(a, b)  # the common case, already valid
    _check_pair(a, b, "matmul")
    a, b = _promote(a, b)
    sa, sb = a.array.shape, b.array.shape
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: mat1 and mat2 shapes cannot be multiplied ({_rows(sa)}x{k_a} and "
            f"{k_b}x{1 if len(sb) == 1 else sb[-1]}): the last dim of a ({k_a}) must equal the "
            f"{'first' if len(sb) == 1 else 'second-to-last'} dim of b ({k_b}); a has shape "
            f"{list(sa)}, b has shape {list(sb)}"
        )
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2] if len(sb) > 1 else ())
        except ValueError:
            raise RuntimeError(f"matmul: the batch dimensions of {list(sa)} and {list(sb)} do "
                               f"not broadcast") from None
    if len(sa) == 1 and len(sb) == 1:
        return (a * b).sum()
    if len(sa) == 1:
        return MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
    if len(sb) == 1:
        return MatMul.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return MatMul.apply(a, b)


def _rows(shape: tuple) -> int:
    return int(np.prod(shape[:-1])) if len(shape) > 1 else 1


def mm(a, b):
    _check_pair(a, b, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D (use "
                           f"matmul for other shapes)")
    return matmul(a, b)


def bmm(a, b):
    _check_pair(a, b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: batch1 and batch2 must be 3-D tensors, got {a.ndim}-D and "
                           f"{b.ndim}-D")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {a.shape[0]} and {b.shape[0]} (bmm does "
                           f"not broadcast; use matmul)")
    return matmul(a, b)


def mv(a, v):
    _check_pair(a, v, "mv")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got {a.ndim}-D and {v.ndim}-D")
    return matmul(a, v)


def dot(a, b):
    _check_pair(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and "
                           f"src [{b.shape[0]}] to have the same number of elements")
    if a.array.dtype != b.array.dtype:
        raise RuntimeError(f"dot: expected both vectors to have same dtype, but found "
                           f"{a.dtype} and {b.dtype}")
    return matmul(a, b)


vdot = dot


def inner(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return matmul(a, b.movedim(-1, 0)) if b.ndim > 1 else matmul(a, b)


def outer(a, b):
    _check_pair(a, b, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D vectors, got {a.ndim}-D and {b.ndim}-D")
    return a.unsqueeze(1) * b.unsqueeze(0)


from chainrule.tensor import Tensor  # noqa: E402 - tensor.py imports this module
