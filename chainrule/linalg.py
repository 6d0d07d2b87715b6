"""torch.linalg: norms (compositions of differentiable ops) and the SVD (forward only).

The two ops of their own, Norm2 and SVD, live with the matrix products in chainrule.ops.linalg.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule._args import to_axes
from chainrule.functions import _linalg_cross as cross  # noqa: F401 - torch.linalg.cross
from chainrule.ops.linalg import SVD, Norm2
from chainrule.tensor import Tensor


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """(sum |x|^ord)^(1/ord) over dim; ord may be inf, -inf or 0 (count of nonzeros).

    Composed of abs, pow, sum and amax, so its gradient and second derivative come free.
    At x = 0 the 2-norm's gradient is taken as 0 (PyTorch's subgradient), not nan.
    """
    if dtype is not None:
        x = x.to(dtype)
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: expected a floating point tensor, got {x.dtype}")
    axes = to_axes(dim, x.ndim, "vector_norm")
    dim = None if axes is None else axes
    if ord == float("inf"):
        return x.abs().amax(dim if dim is not None else (), keepdim)
    if ord == float("-inf"):
        return x.abs().amin(dim if dim is not None else (), keepdim)
    if ord == 0:
        # a count: piecewise constant, but as in PyTorch it stays in the graph (gradient 0)
        return (x != 0).to(x.dtype).sum(dim, keepdim) + (x * 0.0).sum(dim, keepdim)
    if ord == 2:
        return Norm2.apply(x, axes, keepdim)
    if ord == 1:
        return x.abs().sum(dim, keepdim)
    return x.abs().pow(ord).sum(dim, keepdim).pow(1.0 / ord)


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Vector norm (1-D or dim an int), or matrix norm ('fro', 'nuc', 1, -1, inf, -inf)."""
    if dtype is not None:
        x = x.to(dtype)
    if dim is None and ord is None:
        return vector_norm(x.reshape(-1), 2, 0, keepdim=False) if not keepdim else \
            vector_norm(x, 2, tuple(range(x.ndim)), keepdim=True)
    if isinstance(dim, int) or (dim is None and x.ndim == 1):
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim)
    return matrix_norm(x, "fro" if ord is None else ord, dim if dim is not None else (-2, -1),
                       keepdim)


def matrix_norm(x: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False) -> Tensor:  # noqa: A002
    if x.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: the input must have at least 2 dimensions, got "
                           f"{x.ndim}")
    if ord == "fro":
        return vector_norm(x, 2, dim, keepdim)
    if ord == "nuc":
        return _singular_values(x, dim).sum(-1)
    d0, d1 = dim
    if ord in (1, -1):
        s = x.abs().sum(d0, keepdim=True)
        return (s.amax(d1, keepdim=True) if ord == 1 else s.amin(d1, keepdim=True)).squeeze(
            (d0, d1)) if not keepdim else (s.amax(d1, True) if ord == 1 else s.amin(d1, True))
    if ord in (float("inf"), float("-inf")):
        s = x.abs().sum(d1, keepdim=True)
        r = s.amax(d0, keepdim=True) if ord > 0 else s.amin(d0, keepdim=True)
        return r if keepdim else r.squeeze((d0, d1))
    if ord in (2, -2):
        raise NotImplementedError("linalg.matrix_norm: ord=2/-2 need singular values with "
                                  "a backward, which chainrule does not have yet")
    raise RuntimeError(f"linalg.matrix_norm: order {ord!r} not supported")


def _singular_values(x, dim):
    raise NotImplementedError("linalg.matrix_norm(ord='nuc') needs an SVD backward, which "
                              "chainrule does not have yet")


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:  # noqa: N803 - PyTorch's name
    """A = U diag(S) Vh with singular values in descending order (torch.linalg.svd)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.svd: expected a Tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svd: The input tensor A must have at least 2 dimensions, "
                           f"got shape {list(A.shape)}")
    if A.array.dtype.kind != "f":
        raise RuntimeError(f"linalg.svd: expected a floating point tensor, got {A.dtype}")
    try:
        return SVDResult(*SVD.apply(A, full_matrices))
    except np.linalg.LinAlgError as e:
        raise RuntimeError(f"linalg.svd: the algorithm failed to converge ({e}); the input may "
                           f"contain nan or inf") from None


def svdvals(A: Tensor) -> Tensor:
    return svd(A, full_matrices=False).S


def legacy_svd(input: Tensor, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """torch.svd: returns (U, S, V) with V (not Vh), reduced by default."""
    U, S, Vh = svd(input, full_matrices=not some)
    return SVDResult(U, S, Vh.mT) if compute_uv else SVDResult(U * 0, S, Vh.mT * 0)
