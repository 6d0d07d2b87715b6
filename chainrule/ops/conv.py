"""Convolution, pooling, normalisation, embedding and padding ops (the kernels of chainrule.nn).

Every spatial op works on 4-D arrays (N, C, H, W); the 1-D forms add a unit H axis first. The
geometry of a window op is one `Geometry` (kernel, stride, dilation, padding on each side,
output size), computed and checked once by `chainrule.nn._functional_layers`.

Convolution is im2col (a strided view of the padded input, copied once into columns) plus one
batched matmul, in the layout `_per_sample` picks: per sample, or position-major (a row per
output position, its taps and channels along the row, as in NHWC). It is bilinear in (x, w),
and its two gradients are ops of their own:

    Conv2d           out = conv(x, w) + b
    ConvInputGrad    gx  = conv^T(g, w)      the adjoint of x -> conv(x, w), = conv_transpose
    ConvWeightGrad   gw  = conv_w(x, g)      the adjoint of w -> conv(x, w)

From <h, conv(x, w)> = <conv^T(h, w), x> = <conv_w(x, h), w>, the backward of each of the
three is made of the other two, so the set is closed under differentiation: double backward
(and any order) through conv and conv_transpose needs no further rules. Pooling works the
same way: MaxPool2d / _PoolScatter / _PoolGather, AvgPool2d / _AvgPoolAdjoint.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule._threads import split_run
from chainrule.autograd.function import Op
from chainrule.ops.elementwise import kept_for


class Geometry(NamedTuple):
    """The windows of a 2-D conv / pool: window (oy, ox) starts at (oy*sh, ox*sw) of the input
    padded by (pt, pb) rows and (pl, pr) columns, and reads kh x kw taps spaced (dh, dw)."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int
    oh: int
    ow: int


def _pad(x: np.ndarray, geo: Geometry, value=0) -> np.ndarray:
    """x with geo's padding around its last two axes (x itself when there is none)."""
    if not (geo.pt or geo.pb or geo.pl or geo.pr):
        return x
    n, c, h, w = x.shape
    out = np.empty((n, c, h + geo.pt + geo.pb, w + geo.pl + geo.pr), dtype=x.dtype)
    out.fill(value)
    out[:, :, geo.pt:geo.pt + h, geo.pl:geo.pl + w] = x
    return out


def _crop(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """Undo `_pad`: the interior of a padded array."""
    if not (geo.pt or geo.pb or geo.pl or geo.pr):
        return xp
    return xp[:, :, geo.pt:xp.shape[2] - geo.pb, geo.pl:xp.shape[3] - geo.pr]


def _tap(geo: Geometry, i: int, j: int) -> tuple:
    """The strided slice of the padded input that kernel tap (i, j) reads for every window."""
    r, c = i * geo.dh, j * geo.dw
    return (slice(None), slice(None), slice(r, r + geo.sh * (geo.oh - 1) + 1, geo.sh),
            slice(c, c + geo.sw * (geo.ow - 1) + 1, geo.sw))


def _per_sample(geo: Geometry, w_shape: tuple) -> bool:
    """Which layout a conv's matmuls use. Per sample (the columns (N, G, C/G*kh*kw, oh*ow),
    one matmul per sample and group) when a window has no more taps than the output has
    positions: the products then come out in NCHW and g is read in NCHW, with no transposed
    copies; the weight gradient sums N partial products of w's size, no more than g's.
    Position-major otherwise (the columns (G, N*oh*ow, kh*kw*C/G): a row per output
    position, its taps in (i, j, c) order, one matmul per group): for small outputs the
    per-sample matmuls are too small to run at speed. Rows of positions copy runs of kw*C
    contiguous NHWC elements into the columns, and OpenBLAS runs these products 5-20% faster
    than the same products on the columns transposed."""
    return w_shape[1] * geo.kh * geo.kw <= geo.oh * geo.ow


def _im2col(x: np.ndarray, geo: Geometry, groups: int, per_sample: bool) -> np.ndarray:
    """The columns of every window of every sample, laid out (N, G, C/G*kh*kw, oh*ow) per
    sample, rows in w's (c, i, j) order; or position-major, (G, N, oh, ow, kh, kw, C/G).
    One strided copy of the padded input (NHWC for position-major, so that each window row
    is a contiguous run), split over samples between threads."""
    n, c = x.shape[:2]
    if per_sample:
        cols = np.empty((n, groups, c // groups * geo.kh * geo.kw, geo.oh * geo.ow),
                        dtype=x.dtype)
        dst = cols.reshape(n, c, geo.kh, geo.kw, geo.oh, geo.ow)
        split_run(lambda lo, hi: np.copyto(dst[lo:hi], _windows(_pad(x[lo:hi], geo), geo)),
                  n, x, cols)
        return cols
    cols = np.empty((groups, n, geo.oh, geo.ow, geo.kh, geo.kw, c // groups), dtype=x.dtype)

    def run(lo, hi):
        xp = _pad_nhwc(x[lo:hi], geo)
        s0, s1, s2, s3 = xp.strides
        win = as_strided(xp, (hi - lo, geo.oh, geo.ow, geo.kh, geo.kw, groups, c // groups),
                         (s0, s1 * geo.sh, s2 * geo.sw, s1 * geo.dh, s2 * geo.dw,
                          s3 * (c // groups), s3), writeable=False)
        np.copyto(cols[:, lo:hi], win.transpose(5, 0, 1, 2, 3, 4, 6))

    split_run(run, n, x, cols)
    return cols


def _windows(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """(N, C, kh, kw, oh, ow): a read-only strided view of every window's taps in xp."""
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (*xp.shape[:2], geo.kh, geo.kw, geo.oh, geo.ow),
                      (s0, s1, s2 * geo.dh, s3 * geo.dw, s2 * geo.sh, s3 * geo.sw),
                      writeable=False)


def _pad_nhwc(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """x (N, C, H, W) zero-padded as `_pad` does, in NHWC: (N, H + pt + pb, W + pl + pr, C)."""
    n, c, h, w = x.shape
    xp = np.zeros((n, h + geo.pt + geo.pb, w + geo.pl + geo.pr, c), dtype=x.dtype)
    xp[:, geo.pt:geo.pt + h, geo.pl:geo.pl + w] = x.transpose(0, 2, 3, 1)
    return xp


def _positions(g: np.ndarray, groups: int) -> np.ndarray:
    """g (N, O, oh, ow) as (G, N*oh*ow, O/G), the layout of the position-major matmuls: a
    row per output position (one transposing copy)."""
    n, o = g.shape[:2]
    return g.reshape(n, groups, o // groups, -1).transpose(1, 0, 3, 2).reshape(groups, -1,
                                                                               o // groups)


def _taps_last(w: np.ndarray, groups: int) -> np.ndarray:
    """w (O, C/G, kh, kw) as (G, kh*kw*C/G, O/G): the rows in the position-major columns'
    (i, j, c) order (a copy of w, so that every matmul reads it contiguously)."""
    o, cg, kh, kw = w.shape
    return np.ascontiguousarray(w.reshape(groups, o // groups, cg, kh, kw)
                                .transpose(0, 3, 4, 2, 1).reshape(groups, -1, o // groups))


class Conv2d(Op):
    """2-D cross-correlation with groups (PyTorch's conv2d), bias added in place.

    forward:   cols = im2col(pad(x))                        (see _per_sample for the layout)
               out  = w.reshape(G, O/G, -1) @ cols + b      a matmul per group (and sample),
                                                            out as contiguous NCHW
    backward:  gx = ConvInputGrad(g, w)        # the adjoint of x -> conv(x, w)
               gw = ConvWeightGrad(x, g)       # the adjoint of w -> conv(x, w)
               gb = g.sum((0, 2, 3))
    jvp:       t_out = conv(tx, w) + tb + conv(x, tw)       # bilinear: one term per factor
    saved:     x, w (and cols, reused by gw; with no gw to compute, the columns are made a
               block of samples at a time, COLS_BLOCK_BYTES each)
    edges:     geo.oh / geo.ow are taken as given (<= the natural size), so the adjoints of
               conv_transpose with output_padding line up.
    """

    @staticmethod
    def forward(ctx, x, w, b, geo, groups):
        ctx.save_for_backward(x, w)
        ctx.geo, ctx.groups = geo, groups
        per_sample = _per_sample(geo, w.shape)
        out = np.empty((x.shape[0], w.shape[0], geo.oh, geo.ow), dtype=np.result_type(x, w))
        if kept_for(ctx, 1, True):  # the weight's gradient reuses all the columns
            ctx.cols = _im2col(x, geo, groups, per_sample)
            _weights_times(ctx.cols, w, b, out, groups, per_sample)
            return out
        # Nothing keeps them: make the columns a block of samples at a time, so that a big
        # batch (an evaluation of thousands of images) never holds them all at once.
        step = max(1, COLS_BLOCK_BYTES // (x.itemsize * x.shape[1] * geo.kh * geo.kw * geo.oh
                                           * geo.ow))
        for lo in range(0, len(x), step):
            cols = _im2col(x[lo:lo + step], geo, groups, per_sample)
            _weights_times(cols, w, b, out[lo:lo + step], groups, per_sample)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        geo, groups = ctx.geo, ctx.groups
        shared = need_x and need_w and not _per_sample(geo, w.array.shape)
        gt = _positions(g.array, groups) if shared else None
        gx = ConvInputGrad.apply(g, w, x.array.shape, geo, groups, gt=gt) if need_x else None
        gw = None
        if need_w:
            gw = ConvWeightGrad.apply(x, g, w.array.shape, geo, groups, cols=ctx.cols, gt=gt)
            ctx.cols = None  # a second backward (retain_graph) recomputes them
        gb = g.sum((0, 2, 3)) if need_b else None
        return gx, gw, gb, None, None

    @staticmethod
    def jvp(ctx, tx, tw, tb, *_):
        (x, w), geo, groups = ctx.inputs[:2], ctx.geo, ctx.groups
        return Conv2d.apply(tx, w, tb, geo, groups) + Conv2d.apply(x, tw, None, geo, groups)


COLS_BLOCK_BYTES = 32 << 20  # a forward that keeps no columns makes this much at a time


def _weights_times(cols: np.ndarray, w: np.ndarray, b, out: np.ndarray, groups: int,
                   per_sample: bool) -> None:
    """out (N, O, oh, ow), contiguous NCHW as PyTorch's (x.view works) = the weights times
    the columns of those N samples, plus the bias."""
    n, o = out.shape[:2]
    if per_sample:  # (N, G, O/G, oh*ow) is NCHW already
        np.matmul(w.reshape(groups, o // groups, -1), cols,
                  out=out.reshape(n, groups, o // groups, -1))
        if b is not None:
            out += b.reshape(o, 1, 1)
        return
    res = np.matmul(cols.reshape(groups, n * out.shape[2] * out.shape[3], -1),
                    _taps_last(w, groups))
    res = res.reshape(groups, n, *out.shape[2:], o // groups).transpose(1, 0, 4, 2, 3)
    out = out.reshape(n, groups, o // groups, *out.shape[2:])  # (G, N, oh, ow, O/G) to NCHW
    if b is not None:
        np.add(res, b.reshape(groups, o // groups, 1, 1), out=out)
    else:
        np.copyto(out, res)


class ConvInputGrad(Op):
    """conv^T(g, w): the input gradient of conv2d, and the forward of conv_transpose2d.

    forward:   per sample:      cols = w^T @ g[n]   (C/G*kh*kw rows per group and sample)
               position-major:  tap (i, j) = g's rows @ w[:, :, i, j]   (G*kh*kw matmuls
                                                    of (N*oh*ow, O/G) by (O/G, C/G))
               out  = crop(col2im(cols or taps))    # each tap's part added back where it
                                                    # was read: kh*kw strided adds, never a
                                                    # loop over pixels
    backward:  gg = Conv2d(h, w)             # <h, conv^T(g, w)> = <conv(h, w), g>
               gw = ConvWeightGrad(h, g)     # = <conv_w(h, g), w>
    jvp:       t_out = conv^T(tg, w) + conv^T(g, tw)
    saved:     g, w
    """

    @staticmethod
    def forward(ctx, g, w, x_shape, geo, groups, gt=None):
        n, (o, cg) = g.shape[0], w.shape[:2]
        ctx.save_for_backward(g, w)
        ctx.geo, ctx.groups = geo, groups
        out = np.empty(x_shape, dtype=np.result_type(g, w))
        if _per_sample(geo, w.shape):  # cols (N, C, kh, kw, oh, ow), summed into NCHW
            wt = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)
            cols = np.matmul(wt, g.reshape(n, groups, o // groups, -1))
            _col2im(cols.reshape(n, groups * cg, geo.kh, geo.kw, geo.oh, geo.ow), out, geo)
            return out
        # A matmul per tap rather than one whose rows hold all taps: each tap's product is
        # then a contiguous (N, oh, ow, C/G) block, added back in runs of ow*C elements.
        wt = np.ascontiguousarray(w.reshape(groups, o // groups, cg, geo.kh, geo.kw)
                                  .transpose(3, 4, 0, 1, 2))  # (kh, kw, G, O/G, C/G)
        taps = np.matmul(_positions(g, groups) if gt is None else gt, wt)
        taps = taps.reshape(geo.kh, geo.kw, groups, n, geo.oh, geo.ow, cg)
        _col2im_positions(taps, out, geo)
        return out

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved_tensors
        need_g, need_w = ctx.needs_input_grad[:2]
        gg = Conv2d.apply(h, w, None, ctx.geo, ctx.groups) if need_g else None
        gw = ConvWeightGrad.apply(h, g, w.array.shape, ctx.geo, ctx.groups) if need_w else None
        return gg, gw, None, None, None

    @staticmethod
    def jvp(ctx, tg, tw, *_):
        g, w, *rest = ctx.inputs
        return ConvInputGrad.apply(tg, w, *rest) + ConvInputGrad.apply(g, tw, *rest)


def _col2im(cols: np.ndarray, out: np.ndarray, geo: Geometry) -> None:
    """Write into out (N, C, H, W) the sum of each tap's slice of cols (N, C, kh, kw, oh, ow)
    added where that tap read the padded input, then cropped: kh*kw strided adds per chunk
    of samples, the chunks split between threads."""
    padded = geo.pt or geo.pb or geo.pl or geo.pr

    def run(lo, hi):
        acc = out[lo:hi]
        if padded:
            acc = np.empty((hi - lo, out.shape[1], out.shape[2] + geo.pt + geo.pb,
                            out.shape[3] + geo.pl + geo.pr), dtype=out.dtype)
        acc.fill(0)
        part = cols[lo:hi]
        for i in range(geo.kh):
            for j in range(geo.kw):
                acc[_tap(geo, i, j)] += part[:, :, i, j]
        if padded:
            out[lo:hi] = _crop(acc, geo)

    split_run(run, len(out), cols, out)


def _col2im_positions(taps: np.ndarray, out: np.ndarray, geo: Geometry) -> None:
    """`_col2im` for position-major taps (kh, kw, G, N, oh, ow, C/G): summed per chunk of
    samples in a zeroed, padded NHWC array (whose tap slices take each tap's block in runs of
    ow*C), then cropped and written into out (N, C, H, W) in one transposing copy."""
    kh, kw, groups, n = taps.shape[:4]
    c, h, w = out.shape[1:]

    def run(lo, hi):
        acc = np.zeros((hi - lo, h + geo.pt + geo.pb, w + geo.pl + geo.pr, groups, c // groups),
                       dtype=out.dtype)
        for i in range(kh):
            for j in range(kw):  # the NCHW tap slices on NHWC: the channel axis dropped
                acc[_tap(geo, i, j)[1:]] += taps[i, j, :, lo:hi].transpose(1, 2, 3, 0, 4)
        acc = acc.reshape(*acc.shape[:3], c)
        out[lo:hi] = acc[:, geo.pt:geo.pt + h, geo.pl:geo.pl + w].transpose(0, 3, 1, 2)

    split_run(run, n, taps, out)


class ConvWeightGrad(Op):
    """conv_w(x, g): the weight gradient of conv2d.

    forward:   out[gr] = sum over samples of g[gr] @ cols[gr]^T     (G, O/G, C/G*kh*kw) ->
                                                 w's shape; position-major, one matmul sums
                                                 over samples and positions, its columns
                                                 in (i, j, c) order moved to w's (c, i, j)
    backward:  gx = ConvInputGrad(g, h)      # <h, conv_w(x, g)> = <conv(x, h), g>
               gg = Conv2d(x, h)             #                   = <conv^T(g, h), x>
    jvp:       t_out = conv_w(tx, g) + conv_w(x, tg)
    saved:     x, g
    """

    @staticmethod
    def forward(ctx, x, g, w_shape, geo, groups, cols=None, gt=None):
        per_sample = _per_sample(geo, w_shape)
        if cols is None:
            cols = _im2col(x, geo, groups, per_sample)
        ctx.save_for_backward(x, g)
        ctx.geo, ctx.groups = geo, groups
        if per_sample:
            n, o = g.shape[:2]
            gs = g.reshape(n, groups, o // groups, -1)
            return np.add.reduce(np.matmul(gs, cols.transpose(0, 1, 3, 2)), 0).reshape(w_shape)
        gp = _positions(g, groups) if gt is None else gt  # (G, N*oh*ow, O/G)
        gw = np.matmul(gp.transpose(0, 2, 1), cols.reshape(groups, gp.shape[1], -1))
        o, cg, kh, kw = w_shape
        return gw.reshape(groups, o // groups, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(
            w_shape)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad[:2]
        gx = ConvInputGrad.apply(g, h, x.array.shape, ctx.geo, ctx.groups) if need_x else None
        gg = Conv2d.apply(x, h, None, ctx.geo, ctx.groups) if need_g else None
        return gx, gg, None, None, None

    @staticmethod
    def jvp(ctx, tx, tg, *_):
        x, g, *rest = ctx.inputs
        return ConvWeightGrad.apply(tx, g, *rest) + ConvWeightGrad.apply(x, tg, *rest)


# ---------------------------------------------------------------------------------- pooling
class MaxPool2d(Op):
    """Max over each window; the first maximum in row-major tap order wins (PyTorch's choice).

    forward:   cols = pool_cols(xp)           (kh*kw, N, C, oh, ow): tap t of every window,
                                              xp padded with -inf
               out, idx = max over t of cols[t], and the first t that attains it
    backward:  gx = _PoolScatter(g, idx)     # g goes to the argmax of its window, summed
                                             # where windows overlap
    jvp:       t_out = _PoolGather(tx, idx)  # the tangent at each window's argmax
    saved:     idx (int8 tap numbers, constant)
    edges:     ties: only the first maximum (row-major) gets the gradient. A NaN makes out
               NaN; its gradient goes to the window's last NaN tap (PyTorch's CPU kernel).
    """

    @staticmethod
    def forward(ctx, x, geo):
        out = np.empty((*x.shape[:2], geo.oh, geo.ow), dtype=x.dtype)
        idx = np.empty(out.shape, dtype=np.int8 if geo.kh * geo.kw < 128 else np.int32)
        split_run(lambda lo, hi: _first_argmax(_pool_cols(_pad(x[lo:hi], geo, -np.inf), geo),
                                               out[lo:hi], idx[lo:hi]), len(x), x, out)
        ctx.idx, ctx.geo, ctx.x_shape = idx, geo, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        return _PoolScatter.apply(g, ctx.idx, ctx.geo, ctx.x_shape), None

    @staticmethod
    def jvp(ctx, tx, _):
        return _PoolGather.apply(tx, ctx.idx, ctx.geo)


def _pool_cols(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """(kh*kw, N, C, oh, ow): the taps of every window, tap-major and contiguous, so that the
    reductions over taps run on whole contiguous planes (one strided copy of the input)."""
    n, c = xp.shape[:2]
    win = _windows(xp, geo).transpose(2, 3, 0, 1, 4, 5)
    return win.reshape(geo.kh * geo.kw, n, c, geo.oh, geo.ow)


def _first_argmax(cols: np.ndarray, out: np.ndarray, idx: np.ndarray) -> None:
    """out = max over t of cols[t], idx = the first t attaining it: a running max over the
    taps, where a tap strictly greater takes over (ties keep the earlier). Where the max is
    NaN, the last NaN tap, as PyTorch's kernel (which takes any NaN and keeps it)."""
    taps = len(cols)
    np.copyto(out, cols[0])
    idx.fill(0)
    better, step = np.empty(out.shape, dtype=bool), np.empty(out.shape, dtype=idx.dtype)
    for t in range(1, taps):
        np.greater(cols[t], out, out=better)
        np.maximum(out, cols[t], out=out)
        np.multiply(better, t, out=step)
        np.maximum(idx, step, out=idx)  # t grows: a later winner is the larger number
    if taps > 1 and np.isnan(out).any():
        for t in range(taps):
            np.copyto(idx, t, where=np.isnan(cols[t]))


def _tiles(geo: Geometry, hp: int, wp: int) -> bool:
    """The windows cover the padded input exactly once (stride == kernel, no dilation)."""
    return (geo.dh == geo.dw == 1 and geo.sh == geo.kh and geo.sw == geo.kw
            and geo.oh * geo.sh == hp and geo.ow * geo.sw == wp)


def _disjoint(geo: Geometry) -> bool:
    """No input element is read by two taps (windows neither overlap nor interleave)."""
    return geo.sh >= geo.dh * (geo.kh - 1) + 1 and geo.sw >= geo.dw * (geo.kw - 1) + 1


class _PoolScatter(Op):
    """Each window's gradient placed at its argmax tap (the transpose of _PoolGather).

    forward:   out = crop(sum over taps t of place(g * [idx == t], tap t))   # one strided
                                             # write per tap; a plain write where windows
                                             # are disjoint, nothing to zero where they tile
    backward:  gg = _PoolGather(h, idx)
    jvp:       t_out = _PoolScatter(tg, idx)
    edges:     a non-finite g is placed with where(idx == t, g, 0), so that it stays at its
               argmax (inf * 0 would be NaN)
    """

    @staticmethod
    def forward(ctx, g, idx, geo, x_shape):
        ctx.idx, ctx.geo = idx, geo
        n, c, h, w = x_shape
        hp, wp = h + geo.pt + geo.pb, w + geo.pl + geo.pr
        tiles, disjoint = _tiles(geo, hp, wp), _disjoint(geo)
        finite = bool(np.isfinite(g).all())  # for the whole call: chunks agree on -0.0
        gxp = np.empty((n, c, hp, wp), dtype=g.dtype)

        def run(lo, hi):
            gc, ic, dc = g[lo:hi], idx[lo:hi], gxp[lo:hi]
            if not tiles:
                dc.fill(0)
            hit = np.empty(ic.shape, dtype=bool)
            for t in range(geo.kh * geo.kw):
                np.equal(ic, t, out=hit)
                dst = dc[_tap(geo, *divmod(t, geo.kw))]
                if finite and disjoint:  # written once: no read of gxp, which may be unset
                    np.multiply(gc, hit, out=dst)
                    continue
                part = np.multiply(gc, hit) if finite else np.where(hit, gc, g.dtype.type(0))
                if disjoint:
                    dst[...] = part
                else:
                    dst += part

        split_run(run, n, g, gxp)
        return _crop(gxp, geo)

    @staticmethod
    def backward(ctx, h):
        return _PoolGather.apply(h, ctx.idx, ctx.geo), None, None, None

    @staticmethod
    def jvp(ctx, tg, *_):
        return _PoolScatter.apply(tg, *ctx.inputs[1:])


class _PoolGather(Op):
    """h read at each window's argmax tap (max_pool2d with the argmax fixed; linear in h).

    forward:   out[window] = pool_cols(pad(h))[idx[window], window]
    backward:  gh = _PoolScatter(g, idx)
    jvp:       t_out = _PoolGather(th, idx)
    """

    @staticmethod
    def forward(ctx, h, idx, geo):
        ctx.idx, ctx.geo, ctx.x_shape = idx, geo, h.shape
        cols = _pool_cols(_pad(h, geo), geo)
        return np.take_along_axis(cols, idx[None].astype(np.intp), 0)[0]

    @staticmethod
    def backward(ctx, g):
        return _PoolScatter.apply(g, ctx.idx, ctx.geo, ctx.x_shape), None, None

    @staticmethod
    def jvp(ctx, th, *_):
        return _PoolGather.apply(th, ctx.idx, ctx.geo)


class AvgPool2d(Op):
    """Mean over each window: a sum of kh*kw strided slices over a divisor.

    forward:   out = (sum over taps t of xp[tap t]) / div     (xp zero-padded)
    backward:  gx = _AvgPoolAdjoint(g)       # every tap gets g / div back
    jvp:       t_out = AvgPool2d(tx)         # linear
    edges:     div is a number, or an (oh, ow) array when windows at the border count fewer
               elements (count_include_pad=False, ceil_mode)
    """

    @staticmethod
    def forward(ctx, x, geo, div):
        ctx.geo, ctx.div, ctx.x_shape = geo, div, x.shape
        xp = _pad(x, geo)
        out = xp[_tap(geo, 0, 0)].copy()
        for k in range(1, geo.kh * geo.kw):
            out += xp[_tap(geo, *divmod(k, geo.kw))]
        out /= div
        return out

    @staticmethod
    def backward(ctx, g):
        return _AvgPoolAdjoint.apply(g, ctx.geo, ctx.div, ctx.x_shape), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return AvgPool2d.apply(tx, ctx.geo, ctx.div)


class _AvgPoolAdjoint(Op):
    """The transpose of AvgPool2d (linear).

    forward:   out = crop(sum over taps t of place(g / div, tap t))
    backward:  gg = AvgPool2d(h)
    jvp:       t_out = _AvgPoolAdjoint(tg)
    """

    @staticmethod
    def forward(ctx, g, geo, div, x_shape):
        ctx.geo, ctx.div = geo, div
        n, c, h, w = x_shape
        gq = g / np.asarray(div, dtype=g.dtype)
        gxp = np.zeros((n, c, h + geo.pt + geo.pb, w + geo.pl + geo.pr), dtype=g.dtype)
        for i in range(geo.kh):
            for j in range(geo.kw):
                gxp[_tap(geo, i, j)] += gq
        return _crop(gxp, geo)

    @staticmethod
    def backward(ctx, h):
        return AvgPool2d.apply(h, ctx.geo, ctx.div), None, None, None

    @staticmethod
    def jvp(ctx, tg, *_):
        return _AvgPoolAdjoint.apply(tg, *ctx.inputs[1:])


# ---------------------------------------------------------------------------- normalisation
class Normalize(Op):
    """Standardise x over `axes` with its own (batch) statistics: the core of batch, layer and
    group norm. The affine part (* weight + bias) is composed outside.

    forward:   xhat = (x - mean) * r,   r = 1 / sqrt(var + eps)   (mean, biased var over axes)
    backward:  gx = r * (g - mean(g) - xhat * mean(g * xhat))     # means over axes; the two
                                             # subtracted terms are d mean / dx and d var / dx
    jvp:       t_out = r * (tx - mean(tx) - xhat * mean(tx * xhat))   # the same (symmetric)
                                             # Jacobian applied to tx
    saved:     x (mean, r and xhat are recomputed from it, so second derivatives see them
               depend on x; the output itself may be modified in place later)
    edges:     `mean` / `var` may be passed in when the caller already computed them (batch
               norm updates running statistics with them); they must be x's own statistics.
    """

    @staticmethod
    def forward(ctx, x, axes, eps, mean=None, var=None):
        if mean is None:
            mean = x.mean(axes, keepdims=True)
        xhat = x - mean
        if var is None:
            var = np.mean(xhat * xhat, axes, keepdims=True)
        r = 1.0 / np.sqrt(var + eps)
        xhat *= r
        ctx.save_for_backward(x)
        ctx.axes, ctx.eps = axes, eps
        return xhat

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _normalize_jac(x, g, ctx.axes, ctx.eps), None, None, None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return _normalize_jac(ctx.inputs[0], tx, ctx.axes, ctx.eps)


def _normalize_jac(x, g, axes, eps: float):
    """r * (g - mean(g) - xhat * mean(g * xhat)): Normalize's Jacobian (symmetric) times g."""
    xc = x - x.mean(axes, keepdim=True)
    r = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = xc * r
    return r * (g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True))


# ------------------------------------------------------------------------ embedding, padding
class EmbeddingLookup(Op):
    """Rows of the table w picked by integer indices (nn.functional.embedding).

    forward:   out = w[idx]
    backward:  gw = _EmbeddingGrad(g)        # g rows added into the rows they came from,
                                             # zero at padding_idx, / count if scale_by_freq
    jvp:       t_out = tw[idx]               # padding_idx and scale_by_freq shape only the
                                             # gradient, not the forward (as torch.func.jvp)
    saved:     idx (constant)
    """

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_by_freq):
        ctx.idx, ctx.padding_idx, ctx.freq, ctx.n = idx, padding_idx, scale_by_freq, w.shape[0]
        return w[idx]

    @staticmethod
    def backward(ctx, g):
        return _EmbeddingGrad.apply(g, ctx.idx, ctx.n, ctx.padding_idx, ctx.freq), None, None, None

    @staticmethod
    def jvp(ctx, tw, *_):
        return EmbeddingLookup.apply(tw, *ctx.inputs[1:])


class _EmbeddingGrad(Op):
    """The transpose of EmbeddingLookup (linear in g).

    forward:   out = zeros(n, d); out[idx] += g * s   (s = 1 / count of the row's index when
               scale_by_freq); out[padding_idx] = 0
    backward:  gg = h[idx] * s, zero where idx == padding_idx
    jvp:       t_out = _EmbeddingGrad(tg)    # linear
    """

    @staticmethod
    def forward(ctx, g, idx, n, padding_idx, scale_by_freq):
        flat = idx.reshape(-1)
        rows = g.reshape(flat.size, -1)
        scale = None
        if scale_by_freq:
            counts = np.bincount(flat, minlength=n)
            scale = (1.0 / counts[flat]).astype(g.dtype)[:, None]
            rows = rows * scale
        out = np.zeros((n, rows.shape[1]), dtype=g.dtype)
        np.add.at(out, flat, rows)
        if padding_idx is not None:
            out[padding_idx] = 0
        ctx.idx, ctx.padding_idx, ctx.scale, ctx.g_shape = flat, padding_idx, scale, g.shape
        return out

    @staticmethod
    def backward(ctx, h):
        rows = h[ctx.idx]
        mask = np.ones((ctx.idx.size, 1), dtype=h.array.dtype)
        if ctx.padding_idx is not None:
            mask[ctx.idx == ctx.padding_idx] = 0
        if ctx.scale is not None:
            mask = mask * ctx.scale
        return (rows * mask).reshape(ctx.g_shape), None, None, None, None

    @staticmethod
    def jvp(ctx, tg, *_):
        return _EmbeddingGrad.apply(tg, *ctx.inputs[1:])


class ConstantPad(Op):
    """Pad (or crop, for negative amounts) each axis by (before, after) with a constant.

    forward:   out = value everywhere; out[inner] = x[kept]
    backward:  gx = ConstantPad(g, -pads, 0)     # cropping undoes padding and vice versa
    jvp:       t_out = ConstantPad(tx, pads, 0)      # the padding value is a constant
    """

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        shape = tuple(s + a + b for s, (a, b) in zip(x.shape, pads))
        if any(s < 0 for s in shape):
            raise RuntimeError(f"pad: the padding {pads} makes a negative size {list(shape)} "
                               f"from an input of shape {list(x.shape)}")
        out = np.empty(shape, dtype=x.dtype)
        out.fill(value)
        dst = tuple(slice(max(a, 0), s - max(b, 0)) for s, (a, b) in zip(shape, pads))
        src = tuple(slice(max(-a, 0), s - max(-b, 0)) for s, (a, b) in zip(x.shape, pads))
        out[dst] = x[src]
        return out

    @staticmethod
    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-a, -b) for a, b in ctx.pads), 0), None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return ConstantPad.apply(tx, ctx.pads, 0)

