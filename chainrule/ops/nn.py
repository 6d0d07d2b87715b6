"""Fused neural-network ops: losses whose composed form would be slow or unstable, and linear.

Each is one op because fusing buys something the composition can't: a loss over many
elements is a handful of NumPy calls instead of a graph of small ops (the training loops in
the course material are dominated by per-op overhead), and a softmax cross-entropy or a
sigmoid cross-entropy on logits stays finite at logits of +-1e4 only if the log-sum-exp is
formed inside one kernel.

Every backward is written with chainrule ops (or as a gradient op of its own, whose backward is
in turn written with ops), so it is differentiable again (second derivatives).

Constants (class indices, class weights, masks) are passed to forward as ndarrays, not as
Tensors: they get no gradient slot. Glossary: x input, t target, w weight, g upstream grad.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule.autograd.function import Op
from chainrule.autograd.views import recorded
from chainrule.ops.elementwise import _mul, _scale, _sub
from chainrule.ops.linalg import _mm, matmul
from chainrule.ops.shape import sum_to
from chainrule.tensor import Tensor

_BCE_EPS = float(np.float32(1e-12))  # PyTorch's EPSILON is the float 1e-12f, also for doubles


def _reduce(loss: np.ndarray, reduction: str, denom) -> np.ndarray:
    """'none' | 'sum' | 'mean' (sum / denom; 0 / 0 is nan, as PyTorch's mean of nothing)."""
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, axis=None)
    if reduction == "sum":
        return total
    return total / loss.dtype.type(denom) if denom else loss.dtype.type(np.nan)


def _reduction_scale(reduction: str, denom) -> float:
    """d reduced / d loss_i: 1 for 'sum' and 'none', 1 / denom for 'mean' (nan if denom is 0)."""
    if reduction != "mean":
        return 1.0
    return 1.0 / float(denom) if denom else float("nan")


def _per_target(coef, keep, reduction: str, denom):
    """d reduced / d (-logp[i, t_i]) for each target: coef_i * scale, exactly 0 if ignored.

    (PyTorch never writes an ignored target's gradient, so it stays 0 even when 'mean' over
    no kept target makes the scale 0 / 0.) A scalar when every target has the same weight.
    """
    scale = _reduction_scale(reduction, denom)
    if coef is None:
        return scale
    w = coef * scale
    return w if keep is None else np.where(keep, w, w.dtype.type(0))


# ---------------------------------------------------------------- class-index losses

def class_coef(t: np.ndarray, weight, ignore_index: int, n_classes: int, dtype, op: str):
    """Checked class indices -> (safe, coef, denom, keep) for a loss -coef_i * logp[i, t_i].

    safe:  t with ignored entries pointing at class 0 (so indexing never fails);
    coef:  w[t_i], 0 where t_i == ignore_index (None when every coef is 1: the fast case);
    denom: what 'mean' divides by: sum of coef (PyTorch's weighted mean), or the count;
    keep:  the mask of targets not ignored (None when none can be).
    Raises IndexError for a class outside [0, n_classes) that is not ignore_index.
    """
    if t.size == 0:
        return t, None, 0, None
    # one pass: a negative index viewed as unsigned is huge, so this checks 0 <= t < C
    if not 0 <= ignore_index < n_classes and np.maximum.reduce(
            t.view(np.uint64), axis=None) < n_classes:
        if weight is None:
            return t, None, t.size, None
        coef = weight[t]
        return t, coef, coef.sum(dtype=np.float64), None
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{op}: Target {int(t[bad][0])} is out of bounds: class indices must lie in "
            f"[0, {n_classes - 1}] for an input with {n_classes} classes (or equal "
            f"ignore_index={ignore_index})"
        )
    safe = np.where(keep, t, 0)
    coef = keep.astype(dtype) if weight is None else weight[safe] * keep
    return safe, coef, coef.sum(dtype=np.float64), keep


_ARANGES: dict = {}


def _arange(n: int) -> np.ndarray:
    """np.arange(n) for fancy indexing, kept (read-only) for the batch sizes seen."""
    r = _ARANGES.get(n)
    if r is None:
        r = np.arange(n)
        r.flags.writeable = False
        if n <= 65536 and len(_ARANGES) < 64:
            _ARANGES[n] = r
    return r


def pick(a: np.ndarray, t: np.ndarray, axis: int) -> np.ndarray:
    """a[i, t_i, ...] along the class axis (fancy indexing for the common 2-D case)."""
    if a.ndim == 2:
        return a[_arange(a.shape[0]), t]
    return np.take_along_axis(a, np.expand_dims(t, axis), axis).squeeze(axis)


def _onehot(shape: tuple, t: np.ndarray, axis: int, values, dtype) -> np.ndarray:
    """zeros(shape) with `values` at [i, t_i, ...] along the class axis."""
    out = np.zeros(shape, dtype=dtype)
    if len(shape) == 2:
        out[_arange(shape[0]), t] = values
    else:
        np.put_along_axis(out, np.expand_dims(t, axis), np.expand_dims(
            np.broadcast_to(np.asarray(values, dtype), t.shape), axis), axis)
    return out


class NllLoss(Op):
    """Negative log-likelihood of class indices: loss_i = -coef_i * x[i, t_i, ...].

    forward:   out = loss | sum(loss) | sum(loss) / denom    (coef_i = w[t_i], 0 if ignored;
               denom = sum of coef_i: PyTorch's weighted mean over the kept targets)
    backward:  gx = NllLossGrad(g): zeros with -coef_i * scale * g_i at [i, t_i]  # linear in x
    jvp:       t_out = nll_loss(tx, t, weight, ignore_index, reduction)
    saved:     the targets and their coef_i * scale (constants)
    edges:     'mean' with every target ignored is 0 / 0 = nan, with a zero gradient (as
               PyTorch: an ignored target's gradient is never written)
    """

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        axis = 0 if x.ndim == 1 else 1
        safe, coef, denom, keep = class_coef(t, weight, ignore_index, x.shape[axis], x.dtype,
                                             "nll_loss")
        loss = -pick(x, safe, axis)
        if keep is not None:  # an ignored row counts for nothing, even if it holds inf or nan
            loss = np.where(keep, loss, loss.dtype.type(0))
        if coef is not None:
            loss *= coef
        ctx.targets = _Targets(x.shape, axis, safe, _per_target(coef, keep, reduction, denom),
                               (t, weight, ignore_index, reduction))
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        return NllLossGrad.apply(g, ctx.targets), None, None, None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        return NllLoss.apply(tx, *ctx.inputs[1:])


class _Targets(NamedTuple):
    """What the gradient of a class-index loss needs: where the targets are, their weights."""

    shape: tuple  # the input's
    axis: int  # the class axis
    safe: np.ndarray  # class indices, ignored ones pointing at 0
    w: object  # d reduced / d loss_i: coef_i * scale, 0 if ignored (a float if all equal)
    args: tuple  # (t, weight, ignore_index, reduction), to call NllLoss again
    empty_mean: bool = False  # 'mean' over no kept target: 0 / 0, nan for every tangent


class NllLossGrad(Op):
    """The gradient of NllLoss as an op, so that its own gradient is nll_loss again.

    forward:   gx = zeros(x.shape) with -w_i * g_i at [i, t_i]
    backward:  gg = nll_loss(ggx, t, weight, ignore_index, reduction)    # it picks what was put
    jvp:       t_gx = NllLossGrad(tg)                                      # linear
    edges:     'mean' over no kept target: gx = 0 but gg = 0 / 0 = nan, as PyTorch
    """

    @staticmethod
    def forward(ctx, g, targets):
        ctx.args = targets.args
        return _onehot(targets.shape, targets.safe, targets.axis, -(targets.w * g), g.dtype)

    @staticmethod
    def backward(ctx, ggx):
        return NllLoss.apply(ggx, *ctx.args), None

    @staticmethod
    def jvp(ctx, tg, _):
        return NllLossGrad.apply(tg, ctx.inputs[1])


class CrossEntropy(Op):
    """Softmax cross-entropy with class indices, fused: loss_i = coef_i (lse_i - x[i, t_i]).

    forward:   z = x - max(x);  e = exp(z);  s = sum(e);  loss_i = coef_i (log s_i - z[i, t_i])
               reduced as NllLoss (it is nll_loss(log_softmax(x)) in one pass)
    backward:  gx = CrossEntropyGrad(g, x) = (softmax(x) - onehot(t)) * coef_i * g_i * scale
               (d lse / d x = softmax; 0 for an ignored target, also when 'mean' over no kept
               target is nan)
    jvp:       t_out = reduce_i(coef_i sum_c (softmax(x) - onehot(t)) tx)
                     = sum(CrossEntropyGrad(1, x) * tx), over the classes only for 'none'
               (the gradient with a seed of ones, dotted with the tangent)
    saved:     x; e, s, t, coef * scale (constants)
    edges:     logits of +-1e4 are exact (z <= 0, so exp never overflows); 'mean' with every
               target ignored is nan, and so is its tangent (the gradient is 0), as PyTorch
    The kernel works on a class-major copy (classes on axis 0): with few classes, NumPy's
    loops along the class axis of an (N, C) array are short and slow; along N they are long.
    There, target i's class is at flat position t_i * K + i (K targets), so one `take` picks
    z[t_i, i] and one assignment subtracts the one-hot in the gradient.
    """

    materialize_tangents = False  # jvp: None for an input without a tangent

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        axis = 0 if x.ndim == 1 else 1
        safe, coef, denom, keep = class_coef(t, weight, ignore_index, x.shape[axis], x.dtype,
                                             "cross_entropy")
        a = x if x.ndim == 1 else np.ascontiguousarray(x.T if x.ndim == 2 else
                                                       np.moveaxis(x, 1, 0))
        flat = safe * safe.size
        flat += _arange(safe.size).reshape(safe.shape)
        m = np.maximum.reduce(a, 0, initial=-np.inf)
        # sum(m * m) is finite unless a logit is inf or nan (or the sum overflows): one BLAS call
        if np.isfinite(np.vdot(m, m)):
            e, s, loss = _log_softmax_parts(a, m, flat)
        else:  # an inf or nan logit: nan where PyTorch has nan, without NumPy's warnings
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                e, s, loss = _log_softmax_parts(a, m, flat)
        if keep is not None:
            loss = np.where(keep, loss, loss.dtype.type(0))
        if coef is not None:
            loss *= coef
        ctx.save_for_backward(x)
        ctx.softmax = (e, s, flat)  # class-major, as the kernel; flat: the targets in e
        ctx.targets = _Targets(x.shape, axis, safe, _per_target(coef, keep, reduction, denom),
                               (t, weight, ignore_index, reduction),
                               reduction == "mean" and not denom)
        return _reduce(loss, reduction, denom)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return CrossEntropyGrad.apply(g, x, ctx.softmax, ctx.targets), None, None, None, None

    @staticmethod
    def jvp(ctx, tx, *_):
        if tx is None:  # a tangent of the class weights only: they are constants here
            return None
        out = ctx.outputs[0].array
        ones = Tensor._make(np.ones(out.shape, out.dtype), None, 0, False)
        slope = _mul(CrossEntropyGrad.apply(ones, ctx.inputs[0], ctx.softmax, ctx.targets), tx)
        if out.ndim:
            return slope.sum(ctx.targets.axis)
        return _scale(sum_to(slope, ()), np.nan) if ctx.targets.empty_mean else sum_to(slope, ())


class CrossEntropyGrad(Op):
    """The gradient of CrossEntropy as an op: one kernel, and its own rule for second derivatives.

    forward:   gx = (p - y) * c,   p = softmax(x) = e / s,   y = onehot(t),   c_i = w_i g_i
               (w_i = coef_i * scale; x enters through the saved e and s)
    backward:  gg = nll_loss(h, t) + sum_to(w * sum(p h, classes), g.shape)   # linear in g:
                    the y part is -NllLossGrad(g), whose gradient is nll_loss
               gx = c * (p h - p * sum(p h, classes))     # d p / d x = diag(p) - p p^T
    jvp:       t_gx = CrossEntropyGrad(tg, x) + c * (p tx - p * sum(p tx, classes))
    saved:     g, x; e, s, t, w (constants)
    edges:     'mean' over no kept target: gg is 0 / 0 = nan (nll_loss's), as PyTorch
    """

    @staticmethod
    def forward(ctx, g, x, softmax, targets):
        ctx.save_for_backward(g, x)
        ctx.targets = targets
        e, s, flat = softmax
        gx = e / s  # class-major, so g (shaped like the targets) broadcasts as is
        gx.reshape(-1)[flat] -= 1.0
        gx *= g * targets.w
        return _from_class_major(gx)

    @staticmethod
    def backward(ctx, h):
        g, x = ctx.saved_tensors
        tg = ctx.targets
        p = x.softmax(tg.axis)
        ph = p * h
        w = tg.w if isinstance(tg.w, float) else Tensor._make(tg.w, None, 0, False)
        gg = NllLoss.apply(h, *tg.args) + sum_to(w * ph.sum(tg.axis), g.array.shape)
        return gg, _per_class(g * w, tg) * (ph - p * ph.sum(tg.axis, keepdim=True)), None, None

    @staticmethod
    def jvp(ctx, tg, tx, *_):
        (g, x, softmax, targets), axis = ctx.inputs, ctx.targets.axis
        w = targets.w if isinstance(targets.w, float) else Tensor._make(targets.w, None, 0, False)
        p = _softmax(x, axis, softmax)
        pt = p * tx
        return CrossEntropyGrad.apply(tg, x, softmax, targets) + _per_class(g * w, targets) * (
            pt - p * pt.sum(axis, keepdim=True))


def _from_class_major(a: np.ndarray) -> np.ndarray:
    """An array of the kernel's class-major layout back in the input's (classes on axis 1)."""
    return a if a.ndim == 1 else a.T if a.ndim == 2 else np.moveaxis(a, 0, 1)


def _softmax(x, axis: int, parts: tuple):
    """softmax(x) along the class axis in a rule: the op when the result needs a history
    (`recorded`), else e / s from what the forward kernel kept (parts: e, s, flat)."""
    if recorded(x):
        return x.softmax(axis)
    e, s, _ = parts
    return Tensor._make(_from_class_major(e / s), None, 0, False)


def _per_class(c, targets):
    """c, shaped like the targets (or 0-d), with the class axis put back (to broadcast)."""
    return c.unsqueeze(targets.axis) if c.ndim else c


def _log_softmax_parts(a: np.ndarray, m: np.ndarray, flat: np.ndarray) -> tuple:
    """Class-major logits a and their max m -> e = exp(a - m), s = sum(e), -log_softmax(a)[t].

    flat: the targets' flat positions in a (t_i * K + i).
    """
    z = a - m
    e = np.exp(z)
    s = np.add.reduce(e, 0)
    return e, s, np.log(s) - z.take(flat)


# ---------------------------------------------------------------- regression and binary losses

class MseLoss(Op):
    """Squared error (a - b) ** 2, reduced; a and b broadcast against each other.

    forward:   d = a - b;  out = d * d | sum(d * d) | sum(d * d) / d.size
    backward:  ga = sum_to(g * 2 d * scale, a.shape);   gb = -sum_to(g * 2 d * scale, b.shape)
    jvp:       t_out = reduce(2 d * (ta - tb))
    saved:     a, b
    """

    @staticmethod
    def forward(ctx, a, b, reduction):
        d = a - b
        ctx.save_for_backward(a, b)
        ctx.scale = 2.0 * _reduction_scale(reduction, d.size)
        if reduction == "none":
            return d * d
        sq = np.vdot(d, d) if d.ndim else d * d
        if reduction == "sum":
            return sq
        return sq / d.dtype.type(d.size) if d.size else d.dtype.type(np.nan)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        gd = _mul(_scale(g, ctx.scale), _sub(a, b))
        return (sum_to(gd, a.array.shape) if need_a else None,
                sum_to(_scale(gd, -1.0), b.array.shape) if need_b else None, None)

    @staticmethod
    def jvp(ctx, ta, tb, _):
        a, b, reduction = ctx.inputs
        return _reduced((a - b) * (ta - tb), reduction, ctx.scale)


def _reduced(per, reduction: str, scale: float):
    """A jvp's per-element terms reduced as the loss: as they are ('none'), or summed and
    scaled (scale: d reduced / d loss_i, as the loss's backward uses it)."""
    return per * scale if reduction == "none" else per.sum() * scale


class BinaryCrossEntropy(Op):
    """Binary cross-entropy on probabilities x in [0, 1], with PyTorch's clamps.

    forward:   loss = w * ((t - 1) * max(log1p(-x), -100) - t * max(log(x), -100))
    backward:  gx = g * w * (x - t) / max(x (1 - x), eps) * scale    # PyTorch's clamp
               gt = -g * w * logit(x) * scale                          # d loss / d t
    jvp:       t_out = reduce(w * (tx (x - t) / max(x (1 - x), eps) - tt * logit(x)))
               (the tt term is left out where tt == 0: at x = 0 or 1 logit is infinite)
    saved:     x, t; w (a constant)
    edges:     x = 0 or 1 gives a loss of at most 100 and a finite gx (both clamps); gt is
               +-inf there, as PyTorch
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        with np.errstate(divide="ignore"):
            loss = (t - 1) * np.maximum(np.log1p(-x), -100) - t * np.maximum(np.log(x), -100)
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction = weight, reduction
        ctx.scale = _reduction_scale(reduction, loss.size)
        return _reduce(loss.astype(x.dtype, copy=False), reduction, loss.size)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        factor = g * ctx.scale if ctx.weight is None else g * ctx.weight * ctx.scale
        gx = gt = None
        if need_x:
            gx = factor * (x - t) / (x * (1.0 - x)).clamp(min=_BCE_EPS)
        if need_t:
            gt = -factor * (x.log() - (-x).log1p())
        return gx, gt, None, None

    @staticmethod
    def jvp(ctx, tx, tt, *_):
        x, t = ctx.inputs[:2]
        per = tx * (x - t) / (x * (1.0 - x)).clamp(min=_BCE_EPS)
        logit = x.log() - (-x).log1p()
        if not np.isfinite(logit.array).all():  # not 0 * inf: a constant target adds nothing
            logit = logit.where(tt != 0, 0.0)
        per = per - tt * logit
        return _reduced(per if ctx.weight is None else per * ctx.weight, ctx.reduction, ctx.scale)


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), exact for every x (no linear cutoff), differentiable."""
    return -(-x).softplus(1.0, float("inf"))


class BinaryCrossEntropyWithLogits(Op):
    """Binary cross-entropy on logits, stable: sigmoid and log fused into log-sigmoid.

    forward:   ls = min(x, 0) - log1p(exp(-|x|))            # log sigmoid(x), never overflows
               loss = w * ((1 - t) x - lw * ls),  lw = 1 + (pos_weight - 1) t
    backward:  gx = g * w * (lw * sigmoid(x) - pos_weight t) * scale
                    (= g * w * (sigmoid(x) - t) without pos_weight)
               gt = g * w * (-x - (pos_weight - 1) * ls) * scale
    jvp:       t_out = reduce(w * (tx (lw sigmoid(x) - pos_weight t)
                                   - tt (x + (pos_weight - 1) ls)))
    saved:     x, t; w, pos_weight (constants)
    edges:     logits of +-1e4 give exact losses (0 or 1e4) and gradients (0 or +-1)
    """

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        with np.errstate(over="ignore"):
            ls = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
        lw = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x - lw * ls
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        ctx.scale = _reduction_scale(reduction, loss.size)
        return _reduce(loss.astype(np.result_type(x, t), copy=False), reduction, loss.size)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        pw = ctx.pos_weight
        factor = g * ctx.scale if ctx.weight is None else g * ctx.weight * ctx.scale
        gx = gt = None
        if need_x:
            if pw is None:
                gx = (x.sigmoid() - t) * factor
            else:
                gx = ((t * pw + 1.0 - t) * x.sigmoid() - t * pw) * factor
            gx = sum_to(gx, x.array.shape)
        if need_t:
            gt = -x if pw is None else -x - log_sigmoid(x) * (pw - 1.0)
            gt = sum_to(gt * factor, t.array.shape)
        return gx, gt, None, None, None

    @staticmethod
    def jvp(ctx, tx, tt, *_):
        x, t = ctx.inputs[:2]
        pw = ctx.pos_weight
        if pw is None:
            per = tx * (x.sigmoid() - t) - tt * x
        else:
            per = (tx * ((t * pw + 1.0 - t) * x.sigmoid() - t * pw) -
                   tt * (x + log_sigmoid(x) * (pw - 1.0)))
        return _reduced(per if ctx.weight is None else per * ctx.weight, ctx.reduction, ctx.scale)


# ---------------------------------------------------------------- layers

class Linear(Op):
    """x @ w.T + b in one op (instead of a transpose, a matmul and an add).

    forward:   out = x @ w.T (+ b)
    backward:  gx = g @ w;   gw = g2.T @ x2 (x2, g2: x and g with their batch axes flattened);
               gb = sum_to(g, b.shape)
    jvp:       t_out = tx @ w.T + x @ tw.T (+ tb)
    saved:     x, w
    """

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out = np.matmul(x, w.T)
        if b is not None:
            out += b
        ctx.b_shape = None if b is None else b.shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = matmul(g, w) if need_x else None  # g may be 1-D
        gw = gb = None
        if need_w:
            if x.ndim == 2:
                gw = _mm(g, x, transpose_a=True)
            else:
                gw = _mm(g.reshape(-1, w.array.shape[0]), x.reshape(-1, w.array.shape[1]),
                         transpose_a=True)
        if need_b:
            gb = sum_to(g, ctx.b_shape)
        return gx, gw, gb

    @staticmethod
    def jvp(ctx, tx, tw, tb):
        x, w, _ = ctx.inputs
        return Linear.apply(tx, w, tb) + Linear.apply(x, tw, None)
