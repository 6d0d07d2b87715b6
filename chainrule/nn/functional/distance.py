"""Norms and distances between vectors: normalize, cosine_similarity, pairwise_distance.

Each is composed of recorded ops (vector_norm, clamp, division, sum), so its gradient is the
chain rule through them.
"""

from __future__ import annotations

import numpy as np

from chainrule.dtypes import from_numpy_dtype
from chainrule.linalg import vector_norm
from chainrule.nn.functional._utils import check_tensor, nograd
from chainrule.tensor import Tensor


def _pair(x1, x2, op: str) -> tuple:
    """x1 and x2 broadcast to one shape and promoted to one floating point dtype."""
    check_tensor(x1, op, "x1", 1)
    check_tensor(x2, op, "x2", 2)
    dtype = np.result_type(x1.array.dtype, x2.array.dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{op}: expected common dtype to be floating point, yet common dtype "
                           f"is {x1.dtype if x1.array.dtype == dtype else x2.dtype} (convert "
                           f"with .float())")
    try:
        shape = np.broadcast_shapes(x1.array.shape, x2.array.shape)
    except ValueError:
        raise RuntimeError(f"{op}: x1 of shape {list(x1.shape)} and x2 of shape "
                           f"{list(x2.shape)} do not broadcast to one shape") from None
    return tuple(x.to(from_numpy_dtype(dtype)) if x.array.dtype != dtype else x
                 for x in (x1, x2)) + (shape,)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps), the norm taken along dim (unit vectors along dim)."""
    check_tensor(input, "normalize")
    denom = vector_norm(input, p, dim, keepdim=True).clamp_min(eps)
    result = input / denom
    if out is None:
        return result
    check_tensor(out, "normalize", "out", 5)
    if result.requires_grad:
        raise RuntimeError("normalize(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad "
                           "(call it without out=, or under torch.no_grad())")
    return out.copy_(result)


def _clamped(norm: Tensor, eps: float) -> Tensor:
    """max(norm, eps) in value, with the derivative of norm itself (torch clamps its norms in
    place outside autograd, so the gradient flows as if unclamped)."""
    return norm + nograd(np.maximum(norm.array, eps) - norm.array)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim (x1, x2 broadcast).

    As torch, each input is divided by its clamped norm before the product, which keeps the
    result in [-1, 1].
    """
    op = "cosine_similarity"
    x1, x2, shape = _pair(x1, x2, op)
    x1, x2 = x1.expand(shape), x2.expand(shape)
    n1 = _clamped(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _clamped(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (x1, x2 broadcast)."""
    x1, x2, shape = _pair(x1, x2, "pairwise_distance")
    return vector_norm(x1 - x2 + eps, p, len(shape) - 1, keepdim=keepdim)
