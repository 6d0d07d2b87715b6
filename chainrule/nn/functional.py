"""chainrule.nn.functional: torch.nn.functional's losses, activations and linear.

Same signatures, defaults, dtype and broadcasting rules and warnings as PyTorch 2.13. The
losses with a fused kernel (mse_loss, cross_entropy, nll_loss, the binary cross-entropies)
and linear are ops in chainrule/ops/nn.py; everything else is a composition of Tensor ops.

Every loss takes reduction='mean' | 'sum' | 'none'. The legacy size_average / reduce flags are
accepted and translated as PyTorch does (with its deprecation warning).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.autograd.views import _inplace_unary
from chainrule.ops import nn as fused
from chainrule.tensor import Tensor, _dim

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "cross_entropy", "elu",
    "gelu", "glu", "hardsigmoid", "hardswish", "hardtanh", "huber_loss", "kl_div", "l1_loss",
    "leaky_relu", "linear", "log_softmax", "logsigmoid", "mish", "mse_loss", "nll_loss",
    "one_hot", "relu", "relu6", "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax",
    "softmin", "softplus", "softsign", "tanh", "tanhshrink", "threshold",
]

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------- argument checks

def _tensor(value, op: str, name: str = "input", position: int = 1) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _reduction(reduction, size_average, reduce, op: str, extra: tuple = ()) -> str:
    """The checked reduction string; legacy size_average / reduce translated as PyTorch."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", stacklevel=3)
        return reduction
    if isinstance(reduction, str) and (reduction in _REDUCTIONS or reduction in extra):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    valid = ", ".join(repr(r) for r in _REDUCTIONS + extra)
    raise ValueError(f"{reduction} is not a valid value for reduction: {op} takes one of "
                     f"{valid}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _broadcast(a: tuple, b: tuple, op: str) -> tuple:
    """np.broadcast_shapes with PyTorch's error message (and the op named)."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        pass
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            raise RuntimeError(
                f"{op}: The size of tensor a ({a[-i]}) must match the size of tensor b "
                f"({b[-i]}) at non-singleton dimension {max(len(a), len(b)) - i} (shapes "
                f"{list(a)} and {list(b)} do not broadcast)")
    raise AssertionError("unreachable")


def _size_warning(input: Tensor, target: Tensor, op: str) -> None:
    """PyTorch's warning for regression losses whose target broadcasts against the input."""
    if input.array.shape != target.array.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            f"broadcasting. Please ensure they have the same size.", stacklevel=3)
        _broadcast(input.array.shape, target.array.shape, op)


def _as_dtype(t: Tensor, np_dtype) -> Tensor:
    return t if t.array.dtype == np_dtype else t.to(dtypes.from_numpy_dtype(np_dtype))


def _promote(input: Tensor, target: Tensor, op: str) -> tuple:
    """input and target in PyTorch's common dtype, which must be floating point."""
    dt = input.array.dtype
    if dt != target.array.dtype or dt.kind != "f":
        dt = dtypes.result_type(input, target)
        if dt.kind != "f":
            raise NotImplementedError(
                f"{op}: expected floating point tensors, got input {input.dtype} and target "
                f"{target.dtype} (convert with .float())")
        input, target = _as_dtype(input, dt), _as_dtype(target, dt)
    return input, target


def _constant(value, op: str, name: str, dtype, shape=None) -> np.ndarray | None:
    """A weight that is a constant of the op (PyTorch has no gradient for it), cast to dtype."""
    if value is None:
        return None
    _tensor(value, op, name)
    if value.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. "
            f"This input cannot have requires_grad True (pass {name}.detach()).")
    if shape is not None and _broadcast(shape, value.array.shape, op) != shape:
        raise RuntimeError(f"{op}: {name} of shape {list(value.shape)} can't be broadcast to "
                           f"the input's shape {list(shape)}")
    return value.array.astype(dtype, copy=False)


def _float_input(input: Tensor, op: str) -> None:
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f"{op}: expected a floating point input, got {input.dtype} "
                                  f"(convert with .float())")


def _class_weight(weight, input: Tensor, n_classes: int, op: str):
    if weight is None:
        return None
    _tensor(weight, op, "weight")
    if weight.ndim != 1 or weight.array.size != n_classes:
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {n_classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}")
    if weight.array.dtype != input.array.dtype:
        raise RuntimeError(f"{op}: expected scalar type {input.dtype} but found {weight.dtype} "
                           f"for weight (use weight.to(input.dtype))")
    return _constant(weight, op, "weight", input.array.dtype)


def _class_targets(target: Tensor, input: Tensor, op: str) -> np.ndarray:
    """Class-index targets checked against the input's shape, as an int64 array."""
    t = target.array
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(
            f"{op}: expected target dtype to be Long or Byte (int64 class indices), but got "
            f"{target.dtype}; use target.long(), or pass class probabilities of the input's "
            f"shape {list(input.shape)}")
    shape = input.array.shape
    if len(shape) == 1:
        if t.ndim > 1 or t.size != 1:
            raise RuntimeError(f"{op}: For 1D input, 1D target must have size 1, but got "
                               f"target size: {list(target.shape)}")
        t = t.reshape(())
    else:
        if t.ndim == 0 or t.shape[0] != shape[0]:
            raise ValueError(f"{op}: Expected input batch_size ({shape[0]}) to match target "
                             f"batch_size ({t.shape[0] if t.ndim else 0}).")
        if len(shape) == 2 and t.ndim != 1:
            raise RuntimeError(f"{op}: 0D or 1D target tensor expected, multi-target not "
                               f"supported (got target of shape {list(target.shape)} for input "
                               f"{list(shape)})")
        if t.shape[1:] != shape[2:]:
            raise RuntimeError(f"{op}: Expected target size {[shape[0], *shape[2:]]}, got "
                               f"{list(target.shape)}")
    return t if t.dtype == np.int64 else t.astype(np.int64)


def _class_axis(input: Tensor, op: str) -> int:
    ndim = input.array.ndim
    if ndim == 0:
        raise ValueError(f"{op}: Expected 1 or more dimensions (got 0): the input needs a class "
                         f"dimension, (C,), (N, C) or (N, C, d1, ...)")
    return 0 if ndim == 1 else 1


# ---------------------------------------------------------------- regression losses

def _weighted(loss: Tensor, weight, input: Tensor, reduction: str, by_weight: bool) -> Tensor:
    _tensor(weight, "loss", "weight")
    if weight.array.shape != input.array.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if by_weight else loss.mean()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: (input - target) ** 2, reduced (weighted: sum(w l) / sum(w))."""
    _tensor(input, "mse_loss")
    _tensor(target, "mse_loss", "target", 2)
    if input.array.shape != target.array.shape:
        _size_warning(input, target, "mse_loss")
    reduction = _reduction(reduction, size_average, reduce, "mse_loss")
    input, target = _promote(input, target, "mse_loss")
    if weight is not None:
        return _weighted(fused.MseLoss.apply(input, target, "none"), weight, input, reduction,
                         True)
    return fused.MseLoss.apply(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target|, reduced (weighted: sum(w l) / sum(w))."""
    _tensor(input, "l1_loss")
    _tensor(target, "l1_loss", "target", 2)
    _size_warning(input, target, "l1_loss")
    reduction = _reduction(reduction, size_average, reduce, "l1_loss")
    input, target = _promote(input, target, "l1_loss")
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d ** 2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    _tensor(input, "smooth_l1_loss")
    _tensor(target, "smooth_l1_loss", "target", 2)
    _size_warning(input, target, "smooth_l1_loss")
    reduction = _reduction(reduction, size_average, reduce, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got "
                           f"beta={beta}).")
    input, target = _promote(input, target, "smooth_l1_loss")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(_where(ad < beta, d * d * 0.5 / beta, ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d ** 2 where |d| < delta, else delta (|d| - 0.5 delta) (weighted: mean(w l))."""
    _tensor(input, "huber_loss")
    _tensor(target, "huber_loss", "target", 2)
    _size_warning(input, target, "huber_loss")
    reduction = _reduction(reduction, None, None, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got "
                           f"delta={delta}).")
    if input.array.dtype.kind == "f":  # PyTorch computes in the input's dtype here
        target = _as_dtype(target, input.array.dtype)
    input, target = _promote(input, target, "huber_loss")
    d = input - target
    ad = d.abs()
    loss = _where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduce(loss, reduction)


def _where(cond: Tensor, a: Tensor, b: Tensor) -> Tensor:
    from chainrule.ops.elementwise import Where

    return Where.apply(cond.array, a, b)


# ---------------------------------------------------------------- classification losses

def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[i, target_i], for log-probabilities of shape (C,), (N, C) or (N, C, d1, ...).

    weight rescales each class; targets equal to ignore_index count for nothing; 'mean' is
    sum(w[t_i] loss_i) / sum(w[t_i]) over the targets not ignored.
    """
    _tensor(input, "nll_loss")
    _tensor(target, "nll_loss", "target", 2)
    reduction = _reduction(reduction, size_average, reduce, "nll_loss")
    axis = _class_axis(input, "nll_loss")
    _float_input(input, "nll_loss")
    t = _class_targets(target, input, "nll_loss")
    w = _class_weight(weight, input, input.array.shape[axis], "nll_loss")
    return fused.NllLoss.apply(input, t, w, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (C,), (N, C) or (N, C, d1, ...), the classes on dim 1.

    target: class indices (N,) / (N, d1, ...) (int64 or uint8), or class probabilities of the
    input's shape. weight, ignore_index and 'mean' as nll_loss; label_smoothing mixes the
    target with the uniform distribution. Class indices without smoothing take the fused
    kernel (CrossEntropy); the rest is log_softmax composed with nll_loss, as PyTorch.
    """
    _tensor(input, "cross_entropy")
    _tensor(target, "cross_entropy", "target", 2)
    reduction = _reduction(reduction, size_average, reduce, "cross_entropy")
    axis = _class_axis(input, "cross_entropy")
    _float_input(input, "cross_entropy")
    n_classes = input.array.shape[axis]
    w = _class_weight(weight, input, n_classes, "cross_entropy")
    if target.array.shape == input.array.shape:
        return _soft_cross_entropy(input, target, w, ignore_index, reduction, label_smoothing,
                                   axis)
    t = _class_targets(target, input, "cross_entropy")
    if label_smoothing <= 0.0:  # PyTorch ignores a negative label_smoothing
        return fused.CrossEntropy.apply(input, t, w, ignore_index, reduction)
    return _smoothed_cross_entropy(input, t, w, ignore_index, reduction, label_smoothing, axis)


def _smoothed_cross_entropy(input, t, w, ignore_index, reduction, label_smoothing, axis):
    """(1 - ls) nll_loss(log_softmax(x), t) + ls / C * the loss against the uniform target.

    The uniform part of a target i is -sum_c w_c log_softmax(x)_ic (0 if i is ignored); its
    'mean' divides by the same sum of w[t_i] as the nll part (PyTorch's rule).
    """
    _check_smoothing(label_smoothing)
    n_classes = input.array.shape[axis]
    logp = input.log_softmax(axis)
    nll = fused.NllLoss.apply(logp, t, w, ignore_index, reduction)
    smooth = -(logp if w is None else logp * _along(w, axis, input.ndim)).sum(axis)
    _, _, denom, keep = fused.class_coef(t, w, ignore_index, n_classes, input.array.dtype,
                                         "cross_entropy")
    if keep is not None:
        smooth = _where(_nograd(keep), smooth, _nograd(np.zeros((), smooth.array.dtype)))
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        smooth = smooth.sum() / float(denom) if denom else smooth.sum() * math.nan
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _soft_cross_entropy(input, target, w, ignore_index, reduction, label_smoothing, axis):
    """Cross-entropy against class probabilities: -sum_c w_c q_c log_softmax(x)_c."""
    if target.array.dtype.kind != "f":
        raise RuntimeError(
            f"cross_entropy: Expected floating point type for target with class probabilities, "
            f"got {target.dtype} (class indices must have shape {_index_shape(input)}, without "
            f"the class dimension)")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point "
                           "target")
    n_classes = input.array.shape[axis]
    q = target
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        q = q * (1 - label_smoothing) + label_smoothing / n_classes
    prod = input.log_softmax(axis) * q
    if w is not None:
        prod = prod * _along(w, axis, input.ndim)
    if reduction == "none":
        return -prod.sum(axis)
    total = -prod.sum()
    if reduction == "sum":
        return total
    rows = input.array.size // n_classes if n_classes else 0
    return total / rows if rows else total * math.nan


def _check_smoothing(label_smoothing) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")


def _index_shape(input: Tensor) -> list:
    shape = list(input.shape)
    return [] if len(shape) == 1 else [shape[0], *shape[2:]]


def _along(w: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A per-class vector shaped to broadcast along the class axis."""
    return w.reshape((-1,) + (1,) * (ndim - axis - 1))


def _nograd(array) -> Tensor:
    return Tensor._make(np.asarray(array), None, 0, False)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, each log clamped at -100."""
    op = "binary_cross_entropy"
    _tensor(input, op)
    _tensor(target, op, "target", 2)
    reduction = _reduction(reduction, size_average, reduce, op)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    _float_input(input, op)
    if target.array.dtype != input.array.dtype:
        raise RuntimeError(f"{op}: Found dtype {target.dtype} but expected {input.dtype}: the "
                           f"target must have the input's dtype (use target.to(input.dtype))")
    x, t = input.array, target.array
    if not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (apply "
                           f"sigmoid first, or use binary_cross_entropy_with_logits)")
    if not ((t >= 0) & (t <= 1)).all():
        raise RuntimeError(f"{op}: all elements of target should be between 0 and 1")
    w = _constant(weight, op, "weight", x.dtype, x.shape)
    return fused.BinaryCrossEntropy.apply(input, target, w, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits.

    loss = -w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))); weight broadcasts
    to the input, pos_weight along the last (class) dims of the target.
    """
    op = "binary_cross_entropy_with_logits"
    _tensor(input, op)
    _tensor(target, op, "target", 2)
    reduction = _reduction(reduction, size_average, reduce, op)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _float_input(input, op)
    if target.array.dtype.kind != "f":
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type "
                           f"{target.dtype}: the target must be floating point probabilities "
                           f"(use target.float())")
    input, target = _promote(input, target, op)
    dt, shape = input.array.dtype, input.array.shape
    w = _constant(weight, op, "weight", dt, shape)
    pw = _constant(pos_weight, op, "pos_weight", dt, shape)
    return fused.BinaryCrossEntropyWithLogits.apply(input, target, w, pw, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input), input in log space.

    'batchmean' divides the sum by the batch size (the true KL divergence); 'mean' divides by
    the number of elements, with PyTorch's warning.
    """
    _tensor(input, "kl_div")
    _tensor(target, "kl_div", "target", 2)
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    reduction = _reduction(reduction, size_average, reduce, "kl_div", ("batchmean",))
    _broadcast(input.array.shape, target.array.shape, "kl_div")
    input, target = _promote(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target.array
        safe = _where(_nograd(t == 0), _nograd(np.ones((), t.dtype)), target)
        loss = target * safe.log() - target * input  # xlogy(t, t): 0 where t == 0
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- linear, one_hot

def linear(input, weight, bias=None):
    """input @ weight.T + bias: input (*, in_features), weight (out_features, in_features)."""
    _tensor(input, "linear")
    _tensor(weight, "linear", "weight", 2)
    if bias is not None:
        _tensor(bias, "linear", "bias", 3)
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


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (*, num_classes) with a 1 at each class index and 0 elsewhere."""
    _tensor(tensor, "one_hot", "tensor")
    t = tensor.array
    if t.dtype != np.int64:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(int64), got {tensor.dtype}; use tensor.long()")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor. Pass num_classes.")
        num_classes = int(t.max()) + 1
    if t.size and t.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {int(t.min())}.")
    if t.size and (num_classes < 0 or t.max() >= num_classes):
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(t.max())}.")
    return _nograd((t[..., None] == np.arange(num_classes)).astype(np.int64))


# ---------------------------------------------------------------- activations

def _maybe_inplace(input: Tensor, inplace: bool, fn, name: str) -> Tensor:
    return _inplace_unary(input, fn, name) if inplace else fn(input)


def relu(input, inplace=False):
    _tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def _clip_where(x: Tensor, lo, hi, inside) -> Tensor:
    """inside(x) where lo < x < hi, else the clipped constant: no gradient at or beyond the
    bounds (PyTorch's hardtanh family)."""
    a = x.array
    keep = (a > lo) & (a < hi) if hi is not None else a > lo
    outside = np.clip(a, lo, hi) if inside is None else np.where(a <= lo, 0, 1)
    outside = outside.astype(a.dtype, copy=False)
    return _where(_nograd(keep), x if inside is None else inside(x), _nograd(outside))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val), with zero gradient at and beyond the bounds."""
    _tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val (got min_val="
                         f"{min_val}, max_val={max_val})")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(x, min_val, max_val, None),
                          "hardtanh_")


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    _tensor(input, "relu6")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(x, 0, 6, None), "relu6_")


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    _tensor(input, "hardsigmoid")
    _float_input(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, lambda x: _clip_where(
        x, -3.0, 3.0, lambda v: (v + 3.0) / 6.0), "hardsigmoid_")


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    _tensor(input, "hardswish")
    _float_input(input, "hardswish")

    def fn(x):
        a = x.array
        mid = _where(_nograd(a <= 3), x * (x + 3.0) * (1 / 6), x)
        return _where(_nograd(a < -3), _nograd(np.zeros((), a.dtype)), mid)

    return _maybe_inplace(input, inplace, fn, "hardswish_")


def _elu(x: Tensor, alpha: float, scale: float, input_scale: float) -> Tensor:
    """scale * (x if x > 0 else alpha (exp(x * input_scale) - 1)).

    The exponential sees min(x, 0): the unused branch must stay finite, or its zero gradient
    times an infinite exp would be nan."""
    if x.array.dtype.kind != "f":
        x = x.to(dtypes.get_default_dtype())
    neg = (x.clamp(max=0.0) * input_scale).expm1() * alpha
    out = _where(x > 0, x, neg)
    return out * scale if scale != 1.0 else out


def elu(input, alpha=1.0, inplace=False):
    _tensor(input, "elu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0), "elu_")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    _tensor(input, "selu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0),
                          "selu_")


def celu(input, alpha=1.0, inplace=False):
    _tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha must be non-zero")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha), "celu_")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _tensor(input, "leaky_relu")
    return _maybe_inplace(input, inplace, lambda x: x.leaky_relu(negative_slope),
                          "leaky_relu_")


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    _tensor(input, "threshold")
    a = input.array
    fill = _nograd(np.asarray(value).astype(a.dtype))
    return _maybe_inplace(input, inplace, lambda x: _where(_nograd(x.array > threshold), x,
                                                           fill), "threshold_")


def silu(input, inplace=False):
    """x * sigmoid(x) (swish)."""
    _tensor(input, "silu")
    _float_input(input, "silu")
    return _maybe_inplace(input, inplace, lambda x: x * x.sigmoid(), "silu_")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _tensor(input, "mish")
    _float_input(input, "mish")
    return _maybe_inplace(input, inplace, lambda x: x * x.softplus().tanh(), "mish_")


def gelu(input, approximate="none"):
    _tensor(input, "gelu")
    return input.gelu(approximate=approximate)


def softplus(input, beta=1.0, threshold=20.0):
    _tensor(input, "softplus")
    return input.softplus(beta, threshold)


def logsigmoid(input):
    """log(sigmoid(x)), exact for large |x|."""
    _tensor(input, "logsigmoid")
    _float_input(input, "logsigmoid")
    return fused.log_sigmoid(input)


def softsign(input):
    """x / (1 + |x|)."""
    _tensor(input, "softsign")
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    _tensor(input, "tanhshrink")
    return input - input.tanh()


def sigmoid(input):
    _tensor(input, "sigmoid")
    return input.sigmoid()


def tanh(input):
    _tensor(input, "tanh")
    return input.tanh()


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of the input along dim."""
    _tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _dim(dim, input.ndim, "glu")
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
    _tensor(input, "softmax")
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return input.softmax(dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim."""
    _tensor(input, "softmin")
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim (stable, and better than log(softmax(x)))."""
    _tensor(input, "log_softmax")
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return input.log_softmax(dim, dtype=dtype)



from chainrule.nn._functional_layers import *  # noqa: E402,F403 - conv, pool, norm, dropout, embedding, pad
from chainrule.nn._functional_layers import __all__ as _layers_all  # noqa: E402

__all__ += _layers_all
