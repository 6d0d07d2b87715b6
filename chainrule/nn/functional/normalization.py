"""Normalisation: batch_norm, layer_norm, group_norm and instance_norm.

Each standardises over its own axes with the Normalize op (chainrule.ops.conv), then applies
the optional per-channel (or per-element) weight and bias.
"""

from __future__ import annotations

import numpy as np

from chainrule.nn.functional._utils import (
    check_float,
    check_tensor,
    ntuple,
    reshape_to,
    same_dtype,
)
from chainrule.ops import conv as ops
from chainrule.tensor import Tensor


def _affine(out: Tensor, weight, bias, shape: tuple) -> Tensor:
    if weight is not None:
        out = out * reshape_to(weight, shape)
    if bias is not None:
        out = out + reshape_to(bias, shape)
    return out


def _channels(input, op: str, min_ndim: int, error: type) -> tuple:
    """(N, C) of a checked floating point input (N, C, ...) with at least min_ndim dims."""
    check_tensor(input, op)
    check_float(input, op)
    if input.ndim < min_ndim:
        raise error(f"{op}: Expected at least {min_ndim} dimensions (N, C, ...) for the input, "
                    f"but got input of shape {list(input.shape)}")
    return input.array.shape[:2]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) with batch statistics (training) or running ones.

    In training the running statistics, when given, are updated in place:
        running = (1 - momentum) * running + momentum * batch      (var: unbiased, n/(n-1))
    """
    op = "batch_norm"
    _, c = _channels(input, op, 2, ValueError)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.array.size != c:
            raise RuntimeError(f"{op}: {name} should contain {c} elements not {t.array.size} "
                               f"(one per channel of the input of shape {list(input.shape)})")
    same_dtype(op, input, ("weight", weight), ("bias", bias))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        x = input.array
        n = x.size // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axes, keepdims=True)
        var = x.var(axes, keepdims=True, mean=mean)  # the mean is not computed twice
        if running_mean is not None:
            _running_update(running_mean, mean, momentum)
        if running_var is not None:
            _running_update(running_var, var * (n / (n - 1)), momentum)
        out = ops.Normalize.apply(input, axes, eps, mean, var)
        return _affine(out, weight, bias, shape)
    if running_mean is None or running_var is None:
        raise RuntimeError(f"{op}: running_mean and running_var must be given when training is "
                           f"False (or pass training=True to use batch statistics)")
    scale = (running_var.to(input.dtype) + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.to(input.dtype) * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape_to(scale, shape) + reshape_to(shift, shape)


def _running_update(buf: Tensor, batch: np.ndarray, momentum: float) -> None:
    a = buf.array
    a *= 1.0 - momentum
    a += (momentum * batch.reshape(a.shape)).astype(a.dtype, copy=False)
    buf._version[0] += 1


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims, then * weight + bias."""
    op = "layer_norm"
    check_tensor(input, op)
    check_float(input, op)
    shape = ntuple(normalized_shape, len(normalized_shape), "normalized_shape", op) \
        if isinstance(normalized_shape, (tuple, list)) else \
        ntuple(normalized_shape, 1, "normalized_shape", op)
    k = len(shape)
    if k == 0 or input.array.shape[input.ndim - k:] != shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.array.shape != shape:
            raise RuntimeError(f"{op}: expected {name} of shape {list(shape)}, got "
                               f"{list(t.shape)}")
    same_dtype(op, input, ("weight", weight), ("bias", bias))
    axes = tuple(range(input.ndim - k, input.ndim))
    out = ops.Normalize.apply(input, axes, eps)
    return _affine(out, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of num_groups channels (with its spatial dims) per sample."""
    op = "group_norm"
    n, c = _channels(input, op, 2, RuntimeError)
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"{op}: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    same_dtype(op, input, ("weight", weight), ("bias", bias))
    grouped = reshape_to(input, (n, num_groups, -1 if input.array.size else 0))
    out = reshape_to(ops.Normalize.apply(grouped, (2,), eps), input.array.shape)
    return _affine(out, weight, bias, (1, c) + (1,) * (input.ndim - 2))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) plane over its spatial dims."""
    op = "instance_norm"
    n, c = _channels(input, op, 3, ValueError)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if not use_input_stats:
        folded = batch_norm(input, running_mean, running_var, None, None, False, momentum, eps)
        return _affine(folded, weight, bias, shape)
    axes = tuple(range(2, input.ndim))
    if running_mean is not None or running_var is not None:
        x = input.array
        m = x.size // (n * c)
        mean = x.mean(axes).mean(0)
        var = x.var(axes, ddof=0).mean(0) * (m / max(m - 1, 1))
        if running_mean is not None:
            _running_update(running_mean, mean, momentum)
        if running_var is not None:
            _running_update(running_var, var, momentum)
    out = ops.Normalize.apply(input, axes, eps)
    return _affine(out, weight, bias, shape)
