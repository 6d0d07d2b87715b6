"""Pooling: max, average and adaptive average pooling in 1-D and 2-D.

The kernels are MaxPool2d and AvgPool2d in `chainrule.ops.conv`; 1-D forms run them on a unit
H axis, and unbatched inputs get a unit batch axis (`batched`).
"""

from __future__ import annotations

import numpy as np

from chainrule.nn.functional._utils import (
    batched,
    check_float,
    check_tensor,
    nograd,
    ntuple,
    spatial,
)
from chainrule.ops import conv as ops
from chainrule.tensor import Tensor


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: the last window must start inside input or left pad."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(x4, kernel, stride, padding, dilation, ceil_mode, op, nd):
    k = spatial(kernel, nd, 1, "kernel_size", op)
    s = spatial(stride, nd, 1, "stride", op) if stride not in (None, [], ()) else k
    p = spatial(padding, nd, 0, "padding", op)
    d = spatial(dilation, nd, 1, "dilation", op)
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
    check_tensor(input, op)
    check_float(input, op)
    x4, restore = batched(input, nd, op)
    geo = _pool_geometry(x4, kernel_size, stride, padding, dilation, ceil_mode, op, nd)
    out = restore(ops.MaxPool2d.apply(x4, geo))
    if not return_indices:
        return out
    return out, restore(nograd(_argmax_indices(x4, geo)))


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
    check_tensor(input, op)
    check_float(input, op)
    x4, restore = batched(input, nd, op)
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
    check_tensor(input, op)
    check_float(input, op)
    x4, restore = batched(input, nd, op)
    h, w = x4.array.shape[2:]
    if nd == 1:
        oh, ow = 1, ntuple(output_size, 1, "output_size", op)[0]
    else:
        if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
            oh, ow = (h if output_size[0] is None else output_size[0],
                      w if output_size[1] is None else output_size[1])
            oh, ow = ntuple((oh, ow), 2, "output_size", op)
        else:
            oh, ow = ntuple(output_size, 2, "output_size", op)
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
        out = out.matmul(nograd(_adaptive_matrix(w, ow, dt).T.copy()))
    if oh != h:
        out = nograd(_adaptive_matrix(h, oh, dt)).matmul(out)
    return restore(out)


def adaptive_avg_pool1d(input, output_size):
    return _adaptive_avg(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive bins; output_size entries may be None (keep size)."""
    return _adaptive_avg(2, "adaptive_avg_pool2d", input, output_size)
