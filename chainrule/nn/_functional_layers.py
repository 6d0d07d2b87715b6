"""The layer entries of chainrule.nn.functional: convolution, pooling, normalisation, dropout,
embedding and padding (star-imported at the end of functional.py).

Arguments are checked here, once, with PyTorch's rules and messages; the kernels are the ops in
`chainrule.ops.conv`. 1-D forms run the 2-D kernels on a unit H axis; unbatched inputs get a
unit batch axis. Nothing here draws from NumPy's global random state (dropout uses the
chainrule generator).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from chainrule.autograd import grad_mode
from chainrule.ops import conv as ops
from chainrule.ops.shape import Reshape
from chainrule.random import numpy_rng
from chainrule.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "bilinear", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "dropout",
    "dropout1d", "dropout2d", "dropout3d", "embedding", "group_norm", "instance_norm",
    "layer_norm", "max_pool1d", "max_pool2d", "pad",
]


# ------------------------------------------------------------------------------ arguments
def _tuple(value, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of n ints (PyTorch's _single / _pair)."""
    if isinstance(value, Tensor):
        value = value.tolist()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        if len(value) == 1:
            return (int(value[0]),) * n
        if len(value) == n:
            return tuple(int(v) for v in value)
    raise TypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {value!r}")


def _spatial(value, nd: int, unit: int, name: str, op: str) -> tuple:
    """A per-dimension argument as (H, W): 1-D ops get `unit` for their unit H axis."""
    return _tuple(value, 2, name, op) if nd == 2 else (unit,) + _tuple(value, 1, name, op)


def _check_tensor(x, name: str, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(x).__name__}")


def _check_float(x: Tensor, op: str) -> None:
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype} (convert with "
                           f".float())")


def _same_dtype(op: str, x: Tensor, *others) -> None:
    for name, t in others:
        if t is not None and t.array.dtype != x.array.dtype:
            raise RuntimeError(f"{op}: input ({x.dtype}) and {name} ({t.dtype}) must have the "
                               f"same dtype; convert one of them (e.g. model.double() or "
                               f"x.float())")


def _reshape(t: Tensor, shape: tuple) -> Tensor:
    return t if t.array.shape == shape else Reshape.apply(t, shape)


def _batched(x: Tensor, nd: int, op: str, what: str = "input") -> tuple:
    """(x as (N, C, H, W), restore): unbatched inputs gain N; 1-D inputs gain a unit H."""
    full = nd + 2
    if x.ndim not in (full - 1, full):
        raise RuntimeError(f"{op}: Expected {full - 1}D (unbatched) or {full}D (batched) {what}, "
                           f"but got {what} of size: {list(x.shape)}")
    shape = x.array.shape
    unbatched = x.ndim == full - 1
    if unbatched:
        shape = (1,) + shape
    if nd == 1:
        shape = shape[:2] + (1,) + shape[2:]
    x4 = _reshape(x, shape)

    def restore(out: Tensor) -> Tensor:
        s = out.array.shape
        if nd == 1:
            s = s[:2] + s[3:]
        if unbatched:
            s = s[1:]
        return _reshape(out, s)

    return x4, restore


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: the last window must start inside input or left pad."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


# ---------------------------------------------------------------------------- convolution
def _conv_geometry(x4: Tensor, w4: Tensor, stride, padding, dilation, op: str) -> ops.Geometry:
    (kh, kw), (h, w) = w4.array.shape[2:], x4.array.shape[2:]
    sh, sw = stride
    dh, dw = dilation
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: non-positive stride is not supported, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got {dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride={stride}); pad explicitly instead")
            th, tw = dh * (kh - 1), dw * (kw - 1)  # odd totals put the extra row after
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise RuntimeError(f"{op}: Invalid padding string {padding!r}, should be one of "
                               f"'valid' or 'same'")
    else:
        ph, pw = padding
        if ph < 0 or pw < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got {padding}")
        pads = (ph, ph, pw, pw)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if eh > hp or ew > wp:
        raise RuntimeError(
            f"{op}: Calculated padded input size per channel: ({hp} x {wp}). Kernel size: "
            f"({eh} x {ew}). Kernel size can't be greater than actual input size")
    return ops.Geometry(kh, kw, sh, sw, dh, dw, *pads, (hp - eh) // sh + 1, (wp - ew) // sw + 1)


def _conv(nd, op, input, weight, bias, stride, padding, dilation, groups):
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    _check_float(input, op)
    _same_dtype(op, input, ("weight", weight), ("bias", bias))
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, "
                           f"*kernel), got shape {list(weight.shape)}")
    x4, restore = _batched(input, nd, op)
    o, cg = weight.array.shape[:2]
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got {groups}")
    if o % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if x4.array.shape[1] != cg * groups:
        raise RuntimeError(
            f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cg * groups} channels, but got "
            f"{x4.array.shape[1]} channels instead")
    if bias is not None:
        _check_tensor(bias, "bias", op)
        if bias.array.shape != (o,):
            raise RuntimeError(f"{op}: Given weight of size {list(weight.shape)}, expected bias "
                               f"to be 1-dimensional with {o} elements, but got bias of size "
                               f"{list(bias.shape)} instead")
    w4 = weight
    if nd == 1:
        w4 = _reshape(weight, weight.array.shape[:2] + (1,) + weight.array.shape[2:])
    stride = _spatial(stride, nd, 1, "stride", op)
    dilation = _spatial(dilation, nd, 1, "dilation", op)
    if not isinstance(padding, str):
        padding = _spatial(padding, nd, 0, "padding", op)
    geo = _conv_geometry(x4, w4, stride, padding, dilation, op)
    return restore(ops.Conv2d.apply(x4, w4, bias, geo, int(groups)))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or (C, L); padding may be 'same' or 'valid'."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or (C, H, W); padding may be 'same' or 'valid'."""
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(nd, op, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    _check_tensor(input, "input", op)
    _check_tensor(weight, "weight", op)
    _check_float(input, op)
    _same_dtype(op, input, ("weight", weight), ("bias", bias))
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{op}: weight must be {nd + 2}-D (in_channels, out_channels/groups, "
                           f"*kernel), got shape {list(weight.shape)}")
    x4, restore = _batched(input, nd, op)
    cin, og = weight.array.shape[:2]
    if not isinstance(groups, numbers.Integral) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got {groups}")
    if x4.array.shape[1] != cin or cin % groups:
        raise RuntimeError(
            f"{op}: Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cin} channels (divisible by groups={groups}), "
            f"but got {x4.array.shape[1]} channels instead")
    if bias is not None and bias.array.shape != (og * groups,):
        raise RuntimeError(f"{op}: expected bias of shape [{og * groups}], got "
                           f"{list(bias.shape)}")
    w4 = weight
    if nd == 1:
        w4 = _reshape(weight, weight.array.shape[:2] + (1,) + weight.array.shape[2:])
    n = nd
    stride = _spatial(stride, nd, 1, "stride", op)
    padding = _spatial(padding, nd, 0, "padding", op)
    output_padding = _spatial(output_padding, nd, 0, "output_padding", op)
    dilation = _spatial(dilation, nd, 1, "dilation", op)
    if min(stride) <= 0 or min(dilation) <= 0 or min(padding) < 0 or min(output_padding) < 0:
        raise RuntimeError(f"{op}: stride and dilation must be positive and padding and "
                           f"output_padding non-negative, got stride={stride[-n:]}, "
                           f"padding={padding[-n:]}, output_padding={output_padding[-n:]}, "
                           f"dilation={dilation[-n:]}")
    for s, d, p in zip(stride, dilation, output_padding):
        if p >= s and p >= d:
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={output_padding[-n:]}, "
                               f"stride={stride[-n:]}, dilation={dilation[-n:]}")
    (kh, kw), (h, w) = w4.array.shape[2:], x4.array.shape[2:]
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    out_w = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"{op}: Given input size per channel: {[h, w][-n:]}. Calculated "
                           f"output size per channel: {[out_h, out_w][-n:]}. Output size is "
                           f"too small")
    geo = ops.Geometry(kh, kw, stride[0], stride[1], dilation[0], dilation[1], padding[0],
                       padding[0], padding[1], padding[1], h, w)
    out_shape = (x4.array.shape[0], og * groups, out_h, out_w)
    out = ops.ConvInputGrad.apply(x4, w4, out_shape, geo, int(groups))
    if bias is not None:
        out = out + _reshape(bias, (1, og * groups, 1, 1))
    return restore(out)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transpose (adjoint) of conv1d; weight is (in_channels, out_channels/groups, k)."""
    return _conv_transpose(1, "conv_transpose1d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transpose (adjoint) of conv2d; weight is (in_channels, out_channels/groups, kh, kw)."""
    return _conv_transpose(2, "conv_transpose2d", input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# -------------------------------------------------------------------------------- pooling
def _pool_geometry(x4, kernel, stride, padding, dilation, ceil_mode, op, nd):
    k = _spatial(kernel, nd, 1, "kernel_size", op)
    s = _spatial(stride, nd, 1, "stride", op) if stride not in (None, [], ()) else k
    p = _spatial(padding, nd, 0, "padding", op)
    d = _spatial(dilation, nd, 1, "dilation", op)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be greater than zero, "
                           f"got kernel_size={k[-nd:]}, stride={s[-nd:]}, dilation={d[-nd:]}")
    for ki, pi, di in zip(k, p, d):
        if pi < 0 or pi > ((ki - 1) * di + 1) // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but "
                               f"got pad={pi}, kernel_size={ki} and dilation={di}")
    h, w = x4.array.shape[2:]
    oh = _pool_out(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{op}: Given input size: {list(x4.shape[1:])[-nd - 1:]}. Calculated "
                           f"output size: {[x4.shape[1], oh, ow][-nd - 1:]}. Output size is too "
                           f"small")
    pb = max(p[0], (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0])  # ceil_mode's extra rows
    pr = max(p[1], (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1])
    return ops.Geometry(k[0], k[1], s[0], s[1], d[0], d[1], p[0], pb, p[1], pr, oh, ow)


def _max_pool(nd, op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_tensor(input, "input", op)
    _check_float(input, op)
    x4, restore = _batched(input, nd, op)
    geo = _pool_geometry(x4, kernel_size, stride, padding, dilation, ceil_mode, op, nd)
    out = restore(ops.MaxPool2d.apply(x4, geo))
    if not return_indices:
        return out
    return out, restore(Tensor._make(_argmax_indices(x4, geo), None, 0, False))


def _argmax_indices(x4: Tensor, geo: ops.Geometry) -> np.ndarray:
    """PyTorch's return_indices: each max's flat position in its (H, W) input plane."""
    ctx = _Ctx()
    ops.MaxPool2d.forward(ctx, x4.array, geo)
    ti, tj = np.divmod(ctx.idx.astype(np.int64), geo.kw)
    rows = np.arange(geo.oh)[:, None] * geo.sh + ti * geo.dh - geo.pt
    cols = np.arange(geo.ow)[None, :] * geo.sw + tj * geo.dw - geo.pl
    return rows * x4.array.shape[3] + cols


class _Ctx:
    """A bare ctx for calling an op's kernel outside autograd."""

    needs_input_grad = ()


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kernel windows (first maximum wins ties); pads with -inf."""
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _avg_divisor(size, k, s, p, n_out, count_include_pad):
    """Per output position along one axis: how many elements its window averages."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_pool(nd, op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_tensor(input, "input", op)
    _check_float(input, op)
    x4, restore = _batched(input, nd, op)
    geo = _pool_geometry(x4, kernel_size, stride, padding, 1, ceil_mode, op, nd)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero")
        div = float(divisor_override)
    else:
        h, w = x4.array.shape[2:]
        dh = _avg_divisor(h, geo.kh, geo.sh, geo.pt, geo.oh, count_include_pad)
        dw = _avg_divisor(w, geo.kw, geo.sw, geo.pl, geo.ow, count_include_pad)
        div = np.multiply.outer(dh, dw).astype(x4.array.dtype)
        if (div == div.flat[0]).all():
            div = float(div.flat[0])
    return restore(ops.AvgPool2d.apply(x4, geo, div))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kernel windows; count_include_pad / divisor_override as in PyTorch."""
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages PyTorch's bin [floor(i*size/out), ceil((i+1)*size/out))."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        lo, hi = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive_avg(nd, op, input, output_size):
    _check_tensor(input, "input", op)
    _check_float(input, op)
    x4, restore = _batched(input, nd, op)
    h, w = x4.array.shape[2:]
    if nd == 1:
        oh, ow = 1, _tuple(output_size, 1, "output_size", op)[0]
    else:
        if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
            oh, ow = (h if output_size[0] is None else output_size[0],
                      w if output_size[1] is None else output_size[1])
            oh, ow = _tuple((oh, ow), 2, "output_size", op)
        else:
            oh, ow = _tuple(output_size, 2, "output_size", op)
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"{op}: elements of output_size must be greater than zero, got "
                           f"{(oh, ow)[-nd:]}")
    if h % oh == 0 and w % ow == 0:  # equal bins: a plain average pool
        kh, kw = h // oh, w // ow
        geo = ops.Geometry(kh, kw, kh, kw, 1, 1, 0, 0, 0, 0, oh, ow)
        return restore(ops.AvgPool2d.apply(x4, geo, float(kh * kw)))
    dt = x4.array.dtype
    out = x4
    if ow != w:
        out = out.matmul(Tensor._make(_adaptive_matrix(w, ow, dt).T.copy(), None, 0, False))
    if oh != h:
        out = Tensor._make(_adaptive_matrix(h, oh, dt), None, 0, False).matmul(out)
    return restore(out)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive bins; output_size entries may be None (keep size)."""
    return _adaptive_avg(2, "adaptive_avg_pool2d", input, output_size)


# -------------------------------------------------------------------------- normalisation
def _affine(out: Tensor, weight, bias, shape: tuple) -> Tensor:
    if weight is not None:
        out = out * _reshape(weight, shape)
    if bias is not None:
        out = out + _reshape(bias, shape)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) with batch statistics (training) or running ones.

    In training the running statistics, when given, are updated in place:
        running = (1 - momentum) * running + momentum * batch      (var: unbiased, n/(n-1))
    """
    op = "batch_norm"
    _check_tensor(input, "input", op)
    _check_float(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input with at least 2 dims (N, C, ...), got shape "
                         f"{list(input.shape)}")
    c = input.array.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.array.size != c:
            raise RuntimeError(f"{op}: {name} should contain {c} elements not {t.array.size} "
                               f"(one per channel of the input of shape {list(input.shape)})")
    _same_dtype(op, input, ("weight", weight), ("bias", bias))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        x = input.array
        n = x.size // c
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axes, keepdims=True)
        var = x.var(axes, keepdims=True)
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
    return input * _reshape(scale, shape) + _reshape(shift, shape)


def _running_update(buf: Tensor, batch: np.ndarray, momentum: float) -> None:
    a = buf.array
    a *= 1.0 - momentum
    a += (momentum * batch.reshape(a.shape)).astype(a.dtype, copy=False)
    buf._version[0] += 1


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) dims, then * weight + bias."""
    op = "layer_norm"
    _check_tensor(input, "input", op)
    _check_float(input, op)
    shape = _tuple(normalized_shape, len(normalized_shape), "normalized_shape", op) \
        if isinstance(normalized_shape, (tuple, list)) else \
        _tuple(normalized_shape, 1, "normalized_shape", op)
    k = len(shape)
    if k == 0 or input.array.shape[input.ndim - k:] != shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.array.shape != shape:
            raise RuntimeError(f"{op}: expected {name} of shape {list(shape)}, got "
                               f"{list(t.shape)}")
    _same_dtype(op, input, ("weight", weight), ("bias", bias))
    axes = tuple(range(input.ndim - k, input.ndim))
    out = ops.Normalize.apply(input, axes, eps)
    return _affine(out, weight, bias, shape)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each group of num_groups channels (with its spatial dims) per sample."""
    op = "group_norm"
    _check_tensor(input, "input", op)
    _check_float(input, op)
    if input.ndim < 2:
        raise RuntimeError(f"{op}: Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.array.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"{op}: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _same_dtype(op, input, ("weight", weight), ("bias", bias))
    grouped = _reshape(input, (n, num_groups, -1 if input.array.size else 0))
    out = _reshape(ops.Normalize.apply(grouped, (2,), eps), input.array.shape)
    return _affine(out, weight, bias, (1, c) + (1,) * (input.ndim - 2))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) plane over its spatial dims."""
    op = "instance_norm"
    _check_tensor(input, "input", op)
    _check_float(input, op)
    if input.ndim < 3:
        raise ValueError(f"{op}: expected an input with spatial dims (N, C, ...), got shape "
                         f"{list(input.shape)}")
    n, c = input.array.shape[:2]
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


# -------------------------------------------------------------------------------- dropout
def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _drop(input, p, training, inplace, mask_shape, op):
    _check_tensor(input, "input", op)
    _check_p(p, op)
    if not training or p == 0.0:
        return input
    dt = input.array.dtype if input.array.dtype.kind == "f" else np.float32
    if p == 1.0:
        mask = np.zeros(mask_shape, dtype=dt)
    else:  # keep with probability 1 - p, scaled so that the expectation is unchanged
        keep = numpy_rng().random(mask_shape, dtype=np.float64 if dt == np.float64
                                  else np.float32) >= p
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    m = Tensor._make(mask, None, 0, False)
    return input.mul_(m) if inplace else input * m


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    return _drop(input, p, training, inplace, input.array.shape if isinstance(input, Tensor)
                 else (), "dropout")


def _feature_drop(input, p, training, inplace, spatial, op):
    _check_tensor(input, "input", op)
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{op}: Received a {input.ndim}-D input to {op}, which is deprecated: it "
                      f"exists to drop whole channels of inputs with {spatial} spatial "
                      f"dimension(s), a channel dimension and an optional batch dimension; use "
                      f"dropout instead", stacklevel=3)
    if spatial == 2 and input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. Use dropout1d for that instead.", stacklevel=3)
    shape = input.array.shape
    if input.ndim == spatial + 1 and spatial != 2:  # unbatched: one mask entry per channel
        mask_shape = shape[:1] + (1,) * (input.ndim - 1)
    else:
        mask_shape = shape[:2] + (1,) * (input.ndim - 2)
    return _drop(input, p, training, inplace, mask_shape, op)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    return _feature_drop(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) of (N, C, H, W) inputs."""
    return _feature_drop(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_drop(input, p, training, inplace, 3, "dropout3d")


# ------------------------------------------------------------------------------ embedding
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight picked by the integer tensor input (gradients are dense, also with
    sparse=True); padding_idx's row gets no gradient; max_norm renormalises the rows used."""
    op = "embedding"
    _check_tensor(weight, "weight", op)
    idx = input.array if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        got = input.dtype if isinstance(input, Tensor) else idx.dtype
        raise RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {got} instead (use "
                           f".long())")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: 'weight' must be 2-D, got shape {list(weight.shape)}")
    n = weight.array.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise IndexError(f"{op}: index {bad} is out of range for a table of {n} rows (index out "
                         f"of range in self)")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx must be within num_embeddings ({n}), got "
                             f"{padding_idx}")
        padding_idx = padding_idx % n
    if max_norm is not None:
        rows = np.unique(idx)
        with grad_mode.no_grad():
            w = weight.array
            norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            big = norms > max_norm
            w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
            weight._version[0] += 1
    return ops.EmbeddingLookup.apply(weight, np.array(idx, dtype=np.intp), padding_idx,
                                     bool(scale_grad_by_freq))


# -------------------------------------------------------------------------------- padding
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
    _check_tensor(input, "input", op)
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


# -------------------------------------------------------------------------------- bilinear
def bilinear(input1, input2, weight, bias=None):
    """out[..., o] = input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    op = "bilinear"
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor(t, name, op)
    if weight.ndim != 3:
        raise RuntimeError(f"{op}: weight must be 3-D (out, in1, in2), got {list(weight.shape)}")
    o, i, j = weight.array.shape
    lead = input1.array.shape[:-1]
    if input1.array.shape[-1] != i or input2.array.shape[-1] != j or \
            input2.array.shape[:-1] != lead:
        raise RuntimeError(f"{op}: input1 {list(input1.shape)} and input2 {list(input2.shape)} "
                           f"do not match weight {list(weight.shape)} (need [..., {i}] and "
                           f"[..., {j}] with the same leading dims)")
    x1 = _reshape(input1, (-1, i) if input1.array.size else (0, i))
    x2 = _reshape(input2, (-1, j) if input2.array.size else (0, j))
    w = _reshape(weight.permute(1, 0, 2), (i, o * j))
    t = _reshape(x1.matmul(w), (x1.array.shape[0], o, j))
    out = (t * _reshape(x2, (x2.array.shape[0], 1, j))).sum(2)
    if bias is not None:
        out = out + bias
    return _reshape(out, lead + (o,))

