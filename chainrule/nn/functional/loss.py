"""Losses: torch.nn.functional's regression, classification and divergence losses.

Same signatures, defaults, dtype and broadcasting rules and warnings as PyTorch 2.13. The
losses with a fused kernel (mse_loss, cross_entropy, nll_loss, the binary cross-entropies) are
ops in chainrule/ops/nn.py; the others are compositions of Tensor ops.

Every loss takes reduction='mean' | 'sum' | 'none'. The legacy size_average / reduce flags are
accepted and translated as PyTorch does (with its deprecation warning).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from chainrule import dtypes
from chainrule._args import broadcast_shapes
from chainrule.autograd import grad_mode
from chainrule.nn.functional._utils import (
    check_float,
    check_tensor,
    legacy_reduction,
    nograd,
    where,
)
from chainrule.ops import nn as fused
from chainrule.tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _loss_inputs(input, target, op: str, reduction, size_average=None, reduce=None,
                 extra: tuple = ()) -> str:
    """Input and target checked as Tensors; the checked reduction string, the legacy
    size_average / reduce flags translated as PyTorch."""
    check_tensor(input, op)
    check_tensor(target, op, "target", 2)
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce, stacklevel=4)  # blames the loss's caller
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


def _size_warning(input: Tensor, target: Tensor, op: str) -> None:
    """PyTorch's warning for regression losses whose target broadcasts against the input."""
    if input.array.shape != target.array.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            f"broadcasting. Please ensure they have the same size.", stacklevel=3)
        broadcast_shapes(input.array.shape, target.array.shape, op)


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
    check_tensor(value, op, name)
    if value.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. "
            f"This input cannot have requires_grad True (pass {name}.detach()).")
    if shape is not None and broadcast_shapes(shape, value.array.shape, op) != shape:
        raise RuntimeError(f"{op}: {name} of shape {list(value.shape)} can't be broadcast to "
                           f"the input's shape {list(shape)}")
    return value.array.astype(dtype, copy=False)


def _class_weight(weight, input: Tensor, n_classes: int, op: str):
    if weight is None:
        return None
    check_tensor(weight, op, "weight", 3)
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


def _weighted(loss: Tensor, weight, input: Tensor, reduction: str, by_weight: bool) -> Tensor:
    check_tensor(weight, "loss", "weight")
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
    reduction = _loss_inputs(input, target, "mse_loss", reduction, size_average, reduce)
    if input.array.shape != target.array.shape:
        _size_warning(input, target, "mse_loss")
    input, target = _promote(input, target, "mse_loss")
    if weight is not None:
        return _weighted(fused.MseLoss.apply(input, target, "none"), weight, input, reduction,
                         True)
    return fused.MseLoss.apply(input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error |input - target|, reduced (weighted: sum(w l) / sum(w))."""
    reduction = _loss_inputs(input, target, "l1_loss", reduction, size_average, reduce)
    _size_warning(input, target, "l1_loss")
    input, target = _promote(input, target, "l1_loss")
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d ** 2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    reduction = _loss_inputs(input, target, "smooth_l1_loss", reduction, size_average, reduce)
    _size_warning(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta (got "
                           f"beta={beta}).")
    input, target = _promote(input, target, "smooth_l1_loss")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    return _reduce(where(ad < beta, d * d * 0.5 / beta, ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d ** 2 where |d| < delta, else delta (|d| - 0.5 delta) (weighted: mean(w l))."""
    reduction = _loss_inputs(input, target, "huber_loss", reduction)
    _size_warning(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta (got "
                           f"delta={delta}).")
    if input.array.dtype.kind == "f":  # PyTorch computes in the input's dtype here
        target = _as_dtype(target, input.array.dtype)
    input, target = _promote(input, target, "huber_loss")
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-input[i, target_i], for log-probabilities of shape (C,), (N, C) or (N, C, d1, ...).

    weight rescales each class; targets equal to ignore_index count for nothing; 'mean' is
    sum(w[t_i] loss_i) / sum(w[t_i]) over the targets not ignored.
    """
    reduction = _loss_inputs(input, target, "nll_loss", reduction, size_average, reduce)
    axis = _class_axis(input, "nll_loss")
    check_float(input, "nll_loss")
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
    reduction = _loss_inputs(input, target, "cross_entropy", reduction, size_average, reduce)
    axis = _class_axis(input, "cross_entropy")
    check_float(input, "cross_entropy")
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
        smooth = where(nograd(keep), smooth, nograd(np.zeros((), smooth.array.dtype)))
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


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, each log clamped at -100."""
    op = "binary_cross_entropy"
    reduction = _loss_inputs(input, target, op, reduction, size_average, reduce)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    check_float(input, op)
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
    reduction = _loss_inputs(input, target, op, reduction, size_average, reduce)
    if target.array.shape != input.array.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    check_float(input, op)
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
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", stacklevel=2)
    reduction = _loss_inputs(input, target, "kl_div", reduction, size_average, reduce,
                             ("batchmean",))
    broadcast_shapes(input.array.shape, target.array.shape, "kl_div")
    input, target = _promote(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        t = target.array
        safe = where(nograd(t == 0), nograd(np.ones((), t.dtype)), target)
        loss = target * safe.log() - target * input  # xlogy(t, t): 0 where t == 0
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)
