"""Resampling and rearranging images: interpolate, unfold / fold, pixel_shuffle / unshuffle.

All are compositions of recorded ops: index_select (a gather, whose gradient scatters back),
multiplication by constant weights, scatter_add, reshape and permute. So their gradients are
the chain rule through those ops; fold, the adjoint of unfold, is unfold's gather run backwards.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from chainrule.nn.functional._utils import check_tensor, nograd, ntuple
from chainrule.nn.functional.padding import pad
from chainrule.nn.functional.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _output_size(input, size, scale_factor, recompute) -> tuple:
    """(output size, the scale per spatial dim or None) from exactly one of size and
    scale_factor; an explicit scale is kept (not recomputed from the sizes) unless recompute."""
    nd = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if recompute:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(input.shape[2:])} and output size of {size}.")
        if not all(isinstance(s, numbers.Integral) for s in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] "
                            f"or Tuple[int, int, int], but got size with types "
                            f"{[type(s) for s in sizes]}")
        return tuple(int(s) for s in sizes), (None,) * nd
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) \
        else [scale_factor] * nd
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(input.shape[2:])} and scale_factor of shape {scale_factor}.")
    out = tuple(math.floor(n * float(s)) for n, s in zip(input.shape[2:], scales))
    return out, (None,) * nd if recompute else tuple(float(s) for s in scales)


def _nearest_index(n: int, m: int, scale, exact: bool) -> np.ndarray:
    """Source index of each of the m outputs: floor(dst * s) ('nearest') or
    floor((dst + 0.5) * s) ('nearest-exact'), s = 1 / scale_factor or n / m, in float32 as
    torch computes it."""
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n) / m
    dst = np.arange(m, dtype=np.float32) + np.float32(0.5 if exact else 0.0)
    return np.minimum(np.floor(dst * s).astype(np.int64), n - 1)


def _linear_weights(n: int, m: int, scale, align_corners: bool, dtype) -> tuple:
    """(i0, i1, lam): output j = (1 - lam_j) x[i0_j] + lam_j x[i1_j], at the source position
    src_j = j (n - 1) / (m - 1) (align_corners) or (j + 0.5) s - 0.5 clamped at 0."""
    if align_corners:
        s = dtype.type((n - 1) / (m - 1)) if m > 1 else dtype.type(0)
        src = np.arange(m, dtype=dtype) * s
    else:
        s = dtype.type(1.0 / scale) if scale is not None and scale > 0 else \
            dtype.type(n) / dtype.type(m)
        src = np.maximum((np.arange(m, dtype=dtype) + dtype.type(0.5)) * s - dtype.type(0.5),
                         dtype.type(0))
    i0 = np.minimum(src.astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    return i0, i1, (src - i0).astype(dtype)


def _resample(input, out_size, scales, mode: str, align_corners: bool):
    """Resample one spatial dim after another (each mode here is separable).

    As torch's kernels: a linear mode leaves a dim whose size is unchanged as it is, whatever
    the scale_factor; 2-D 'nearest' does so too, and doubles a dim by repeating each pixel.
    """
    x = input
    dtype = input.array.dtype
    for axis, (n, m, s) in enumerate(zip(input.shape[2:], out_size, scales), start=2):
        if mode in ("nearest", "nearest-exact"):
            if mode == "nearest" and input.ndim == 4 and m in (n, 2 * n):
                idx = np.arange(m) * n // m
            else:
                idx = _nearest_index(n, m, s, mode == "nearest-exact")
            x = x.index_select(axis, nograd(idx))
            continue
        if n == m:
            continue
        i0, i1, lam = _linear_weights(n, m, s, align_corners, dtype)
        shape = (m,) + (1,) * (input.ndim - 1 - axis)
        lam = nograd(lam.reshape(shape))
        x = x.index_select(axis, nograd(i0)) * (1 - lam) + x.index_select(axis, nograd(i1)) * lam
    return x


def _check_mode(input, mode: str, align_corners, antialias) -> None:
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not in chainrule (resize "
                                  "without it, or blur first)")
    if input.ndim not in (3, 4, 5) or mode not in (*_LINEAR, "nearest", "nearest-exact",
                                                    "area", "bicubic"):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: {_MODES} (got {mode})")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode]}D input")
    if mode == "bicubic" or (mode == "area" and input.ndim == 5):
        raise NotImplementedError(f"interpolate: mode '{mode}' on {input.ndim}D input is not "
                                  f"in chainrule (use bilinear, or area on 3D / 4D input)")
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f"interpolate: '{mode}' is not implemented for {input.dtype} "
                                  f"input (convert with .float())")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, W), (N, C, H, W) or (N, C, D, H, W) input.

    Output dim j reads source position src_j: 'nearest' takes x[floor(j s)], s = in / out (or
    1 / scale_factor); 'linear' / 'bilinear' / 'trilinear' mix the two neighbours of
    src_j = (j + 0.5) s - 0.5 (align_corners=False) or j (in - 1) / (out - 1) (True), one
    spatial dim after another; 'area' is adaptive average pooling.
    """
    check_tensor(input, "interpolate")
    _check_mode(input, mode, align_corners, antialias)
    out_size, scales = _output_size(input, size, scale_factor, recompute_scale_factor)
    if min(out_size) <= 0 or min(input.shape[2:]) <= 0:
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but "
                           f"got input {tuple(input.shape[2:])} and output {out_size}")
    if mode == "area":
        pool = adaptive_avg_pool1d if input.ndim == 3 else adaptive_avg_pool2d
        return pool(input, out_size)
    return _resample(input, out_size, scales, mode, bool(align_corners))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated torch name of interpolate (with its warning)."""
    import warnings
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


# -- unfold / fold ----------------------------------------------------------------------------

def _block_geometry(op, spatial, kernel_size, dilation, padding, stride) -> tuple:
    """((kh, kw), (dh, dw), (ph, pw), (sh, sw), (blocks_h, blocks_w)) of sliding blocks over a
    (H, W) plane: blocks = (H + 2p - d (k - 1) - 1) // s + 1 per dim."""
    k, d, p, s = (ntuple(v, 2, name, op) for v, name in ((kernel_size, "kernel_size"),
                                                            (dilation, "dilation"),
                                                            (padding, "padding"),
                                                            (stride, "stride")))
    if min(s) <= 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got stride_height: "
                           f"{s[0]} stride_width: {s[1]}")
    if min(k) <= 0 or min(d) <= 0 or min(p) < 0:
        raise RuntimeError(f"{op}: kernel_size and dilation should be greater than zero and "
                           f"padding non-negative, got kernel_size={k}, dilation={d}, "
                           f"padding={p}")
    blocks = tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1
                   for n, ki, di, pi, si in zip(spatial, k, d, p, s))
    if min(blocks) < 1:
        raise RuntimeError(f"{op}: Given input with spatial size {tuple(spatial)}, "
                           f"kernel_size={k}, dilation={d}, padding={p}, calculated shape of "
                           f"the array of sliding blocks as {blocks}, but its components must "
                           f"be at least one.")
    return k, d, p, s, blocks


def _block_index(k, d, s, blocks, padded_w: int) -> np.ndarray:
    """Flat index into the padded (Hp * Wp) plane of element (ki, kj) of block (bi, bj), in
    the order (ki, kj, bi, bj): row ki d_h + bi s_h, column kj d_w + bj s_w."""
    rows = (np.arange(k[0]) * d[0])[:, None, None, None] + \
        (np.arange(blocks[0]) * s[0])[None, None, :, None]
    cols = (np.arange(k[1]) * d[1])[None, :, None, None] + \
        (np.arange(blocks[1]) * s[1])[None, None, None, :]
    return (rows * padded_w + cols).reshape(-1)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C kh kw, L): column l holds the l-th sliding block (im2col).

    out[n, (c, ki, kj), (bi, bj)] = x_padded[n, c, ki d_h + bi s_h, kj d_w + bj s_w].
    """
    op = "unfold"
    check_tensor(input, op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Expected 3D (unbatched) or 4D (batched) input (N, C, H, W), "
                           f"but got input of size: {list(input.shape)}")
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (convert "
                                  f"with .float())")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    n, c, h, w = x.shape
    k, d, p, s, blocks = _block_geometry(op, (h, w), kernel_size, dilation, padding, stride)
    xp = pad(x, (p[1], p[1], p[0], p[0])) if max(p) else x
    idx = _block_index(k, d, s, blocks, w + 2 * p[1])
    cols = xp.reshape(n, c, -1).index_select(2, nograd(idx))
    out = cols.reshape(n, c * k[0] * k[1], blocks[0] * blocks[1])
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C kh kw, L) -> (N, C, H, W): each column is added back at its block (col2im).

    The adjoint of unfold: fold(unfold(x)) counts every pixel once per block covering it.
    out_padded[n, c, ki d_h + bi s_h, kj d_w + bj s_w] += in[n, (c, ki, kj), (bi, bj)].
    """
    op = "fold"
    check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D (unbatched) or 3D (batched) input (N, C*kh*kw, "
                           f"L), but got input of size: {list(input.shape)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    h, w = ntuple(output_size, 2, "output_size", op)
    k, d, p, s, blocks = _block_geometry(op, (h, w), kernel_size, dilation, padding, stride)
    n, ckk, length = x.shape
    if ckk % (k[0] * k[1]):
        raise RuntimeError(f"{op}: Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={ckk} and "
                           f"kernel_size={k}.")
    if length != blocks[0] * blocks[1]:
        raise RuntimeError(f"{op}: Given output_size={(h, w)}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)="
                           f"{length}.")
    c = ckk // (k[0] * k[1])
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    idx = np.broadcast_to(_block_index(k, d, s, blocks, wp), (n, c, ckk // c * length))
    zeros = nograd(np.zeros((n, c, hp * wp), dtype=x.array.dtype))
    out = zeros.scatter_add(2, nograd(idx), x.reshape(n, c, -1)).reshape(n, c, hp, wp)
    out = out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return out if input.ndim == 3 else out.squeeze(0)


# -- pixel_shuffle ----------------------------------------------------------------------------

def _check_factor(input, factor, op: str, what: str) -> None:
    check_tensor(input, op)
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if not isinstance(factor, numbers.Integral) or factor <= 0:
        raise RuntimeError(f"{op} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r):
    out[..., c, h r + i, w r + j] = in[..., c r^2 + i r + j, h, w]."""
    op, r = "pixel_shuffle", upscale_factor
    _check_factor(input, r, op, "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"{op} expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    b = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    op, r = "pixel_unshuffle", downscale_factor
    _check_factor(input, r, op, "downscale_factor")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"{op} expects {name} to be divisible by downscale_factor, but "
                               f"input.size({dim})={size} is not divisible by {r}")
    b = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)

