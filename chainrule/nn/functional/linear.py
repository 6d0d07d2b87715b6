"""linear and bilinear: the affine maps of nn.Linear and nn.Bilinear."""

from __future__ import annotations

import numpy as np

from chainrule.nn.functional._utils import check_tensor, reshape_to
from chainrule.ops import nn as fused


def linear(input, weight, bias=None):
    """input @ weight.T + bias: input (*, in_features), weight (out_features, in_features)."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight", 2)
    if bias is not None:
        check_tensor(bias, "linear", "bias", 3)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.array.dtype != input.array.dtype:
            raise RuntimeError(f"linear: expected {name} to have the input's dtype, but got "
                               f"{t.dtype} != {input.dtype} (use {name}.to(input.dtype))")
    if input.ndim == 0 or weight.ndim not in (1, 2):
        raise RuntimeError(f"linear: input must have at least 1 dimension and weight 1 or 2 "
                           f"(out_features, in_features), got input of shape "
                           f"{list(input.shape)} and weight of shape {list(weight.shape)}")
    n_in = input.array.shape[-1]
    if weight.array.shape[-1] != n_in:
        rows = input.array.size // n_in if n_in else 0
        raise RuntimeError(
            f"linear: mat1 and mat2 shapes cannot be multiplied ({rows}x{n_in} and "
            f"{'x'.join(str(s) for s in weight.shape[::-1])}): the input's last dim "
            f"({n_in}) must equal weight.shape[1] (in_features); input {list(input.shape)}, "
            f"weight {list(weight.shape)}")
    if weight.ndim == 1:  # PyTorch allows a vector weight: a dot product over the last dim
        out = input.matmul(weight)
        return out if bias is None else out + bias
    out_shape = input.array.shape[:-1] + weight.array.shape[:1]
    if bias is not None and not _fits(bias.array.shape, out_shape):
        raise RuntimeError(f"linear: bias of shape {list(bias.shape)} can't be broadcast to the "
                           f"output shape {list(out_shape)}")
    return fused.Linear.apply(input, weight, bias)


def _fits(shape: tuple, target: tuple) -> bool:
    """Whether `shape` broadcasts to `target` without enlarging it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    op = "bilinear"
    for position, (name, t) in enumerate((("input1", input1), ("input2", input2),
                                          ("weight", weight)), 1):
        check_tensor(t, op, name, position)
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out, in1, in2), got {list(weight.shape)}")
    o, i, j = weight.array.shape
    lead = input1.array.shape[:-1]
    if input1.array.shape[-1] != i or input2.array.shape[-1] != j or \
            input2.array.shape[:-1] != lead:
        raise RuntimeError(f"{op}: input1 {list(input1.shape)} and input2 {list(input2.shape)} "
                           f"do not match weight {list(weight.shape)} (need [..., {i}] and "
                           f"[..., {j}] with the same leading dims)")
    x1 = reshape_to(input1, (-1, i) if input1.array.size else (0, i))
    x2 = reshape_to(input2, (-1, j) if input2.array.size else (0, j))
    w = reshape_to(weight.permute(1, 0, 2), (i, o * j))
    t = reshape_to(x1.matmul(w), (x1.array.shape[0], o, j))
    out = (t * reshape_to(x2, (x2.array.shape[0], 1, j))).sum(2)
    if bias is not None:
        out = out + bias
    return reshape_to(out, lead + (o,))
