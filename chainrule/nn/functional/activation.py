"""Activations: torch.nn.functional's pointwise nonlinearities, glu and the softmax family.

The ones Tensor has as methods (relu, sigmoid, tanh, gelu, softplus, softmax, ...) call them;
the rest are compositions of Tensor ops. With `inplace=True` the function runs on the input's
old values and the result replaces them (chainrule.autograd.views._inplace_unary), so the graph
sees one in-place op.
"""

from __future__ import annotations

import warnings

import numpy as np

from chainrule import dtypes
from chainrule._args import to_axis
from chainrule.autograd.views import _inplace_unary
from chainrule.nn.functional._utils import check_float, check_tensor, nograd, where
from chainrule.ops import nn as fused
from chainrule.tensor import Tensor


def _maybe_inplace(input: Tensor, inplace: bool, fn, name: str) -> Tensor:
    return _inplace_unary(input, fn, name) if inplace else fn(input)


def relu(input, inplace=False):
    check_tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def _clip_where(x: Tensor, lo, hi, inside) -> Tensor:
    """inside(x) where lo < x < hi, else the clipped constant: no gradient at or beyond the
    bounds (PyTorch's hardtanh family)."""
    a = x.array
    keep = (a > lo) & (a < hi) if hi is not None else a > lo
    outside = np.clip(a, lo, hi) if inside is None else np.where(a <= lo, 0, 1)
    outside = outside.astype(a.dtype, copy=False)
    return where(nograd(keep), x if inside is None else inside(x), nograd(outside))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val), with zero gradient at and beyond the bounds."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val="
                         f"{min_val}, max_val={max_val})")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(x, min_val, max_val, None),
                          "hardtanh_")


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    check_tensor(input, "relu6")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(x, 0, 6, None), "relu6_")


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    check_tensor(input, "hardsigmoid")
    check_float(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(
        x, -3.0, 3.0, lambda v: (v + 3.0) / 6.0), "hardsigmoid_")


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    check_tensor(input, "hardswish")
    check_float(input, "hardswish")

    def fn(x):
        a = x.array
        mid = where(nograd(a <= 3), x * (x + 3.0) * (1 / 6), x)
        return where(nograd(a < -3), nograd(np.zeros((), a.dtype)), mid)

    return _maybe_inplace(input, inplace, fn, "hardswish_")


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """scale * (x if x > 0 else alpha (exp(x * input_scale) - 1)).

    The exponential sees min(x, 0): the unused branch must stay finite, or its zero gradient
    times an infinite exp would be nan."""
    if x.array.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    neg = (x.clamp(max=0.0) * input_scale).expm1() * alpha
    out = where(x > 0, x, neg)
    return out * scale if scale != 1.0 else out


def elu(input, alpha=1.0, inplace=False):
    check_tensor(input, "elu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0), "elu_")


_SELU_ALPHA = 1.6732632423543772848170429916717


_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    check_tensor(input, "selu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0),
                          "selu_")


def celu(input, alpha=1.0, inplace=False):
    check_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must be non-zero")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha), "celu_")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    check_tensor(input, "leaky_relu")
    return _maybe_inplace(input, inplace, lambda x: x.leaky_relu(negative_slope),
                          "leaky_relu_")


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    check_tensor(input, "threshold")
    a = input.array
    fill = nograd(np.asarray(value).astype(a.dtype))
    return _maybe_inplace(input, inplace, lambda x: where(nograd(x.array > threshold), x,
                                                           fill), "threshold_")


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    check_tensor(input, "silu")
    check_float(input, "silu")
    return _maybe_inplace(input, inplace, lambda x: x * x.sigmoid(), "silu_")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    check_tensor(input, "mish")
    check_float(input, "mish")
    return _maybe_inplace(input, inplace, lambda x: x * x.softplus().tanh(), "mish_")


def gelu(input, approximate="none"):
    check_tensor(input, "gelu")
    return input.gelu(approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0):
    check_tensor(input, "softplus")
    return input.softplus(beta, threshold)


def logsigmoid(input):
    """log(sigmoid(x)), exact for large |x|."""
    check_tensor(input, "logsigmoid")
    check_float(input, "logsigmoid")
    return fused.log_sigmoid(input)


def softsign(input):
    """x / (1 + |x|)."""
    check_tensor(input, "softsign")
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    check_tensor(input, "tanhshrink")
    return input - input.tanh()


def sigmoid(input):
    check_tensor(input, "sigmoid")
    return input.sigmoid()


def tanh(input):
    check_tensor(input, "tanh")
    return input.tanh()


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of the input along dim."""
    check_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = to_axis(dim, input.ndim, "glu")
    size = input.array.shape[d]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                           f"{size}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy implicit dim: 0 for 0-, 1- and 3-d inputs, else 1 (with a warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim (stable)."""
    check_tensor(input, "softmax")
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return input.softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim."""
    check_tensor(input, "softmin")
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim (stable, and better than log(softmax(x)))."""
    check_tensor(input, "log_softmax")
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return input.log_softmax(dim, dtype=dtype)
