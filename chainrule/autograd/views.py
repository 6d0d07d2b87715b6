"""Views and in-place ops: shared version counters, view replay, and history rebase.

A view (transpose, reshape without a copy, basic indexing) shares its base's memory and its
version counter, so an in-place edit through either is seen by every saved tensor that depends
on it. An in-place op on a tensor that takes part in autograd replaces the tensor's history by
the op's (`_inplace_unary`); when the tensor is a view, the base is rebased too: it becomes
"base with this region replaced" (ViewScatter, PyTorch's CopySlices), so the seed's
`x[:, 0] = z * w[:, 0] + b[:, 0]` sends gradients to z, w and b.
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule import dtypes
from chainrule._args import check_broadcast
from chainrule.autograd import grad_mode

_state = grad_mode._state


def _share_version(cls, args, outs) -> None:
    """A view shares its base's version counter, so in-place edits through either are seen.

    It also records how to remake itself from its base (`_view_spec`: the op, its other
    arguments, and the base's own spec), which an in-place op on the view needs to rebase
    the base's history (see tensor._inplace_unary). A tuple, not a closure: views are made
    on every transpose, so this must stay cheap.
    """
    base, out = args[0], outs[0]
    if cls.may_copy and not np.may_share_memory(out.array, base.array):
        return  # e.g. a reshape that had to copy: not a view
    out._version = base._version
    out._base = base._base if base._base is not None else base
    out._view_spec = (cls, args[1:], base._view_spec)


def replay_view(spec, base):
    """Remake a view from its base by re-applying the recorded view ops, outermost last."""
    ops = []
    while spec is not None:
        ops.append(spec)
        spec = spec[2]
    out = base
    for cls, rest, _ in reversed(ops):
        out = cls.apply(out, *rest)
    return out


def _inplace_check(t: Tensor, name: str) -> None:
    if t.requires_grad and t.grad_fn is None and _state.enabled:
        raise RuntimeError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place "
            f"operation. Do the update under `with torch.no_grad():`, or use an out-of-place op."
        )
    base = t._base
    if base is not None and base.requires_grad and base.grad_fn is None and _state.enabled:
        raise RuntimeError(
            f"{name}: a view of a leaf Variable that requires grad is being used in an "
            f"in-place operation. Do the update under `with torch.no_grad():`."
        )


def _inplace(t: Tensor, op, other, ufunc, name: str) -> Tensor:
    """t op= other: in NumPy when no graph is recorded, else as an op with history rebased."""
    if isinstance(other, np.generic):
        other = other.item()
    if recorded(t, other):
        return _inplace_unary(t, lambda x: binary_op(op, x, other, name), name)
    ta = t.array
    if isinstance(other, Tensor):
        b = other.array
        if b.shape != ta.shape and np.broadcast_shapes(ta.shape, b.shape) != ta.shape:
            check_broadcast(ta, b, name)
            raise RuntimeError(
                f"{name}: output with shape {list(t.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(ta.shape, b.shape))}"
            )
        if b.dtype != ta.dtype or name == "div_":  # (the same dtype is always castable)
            _inplace_result_check(t, b.dtype.kind, name)
    elif isinstance(other, (list, tuple, np.ndarray)):
        return _inplace(t, op, as_operand(other, t, name), ufunc, name)
    else:
        b = other
        _inplace_result_check(t, "f" if isinstance(b, float) else "b" if isinstance(
            b, builtins.bool) else "i", name)
    try:
        ufunc(ta, b, out=ta, casting="unsafe")
    except ValueError:  # NumPy refuses a read-only (expanded) array: say why in our words
        _writable(t, name)
        raise
    t._version[0] += 1
    return t


def _inplace_result_check(t: Tensor, kind: str, name: str) -> None:
    """An in-place op keeps t's dtype: a result of a higher category (float into int) fails."""
    cat_t = dtypes.category(t.array.dtype)
    cat_b = dtypes.FLOAT if kind == "f" else dtypes.BOOL if kind == "b" else dtypes.INT
    if cat_b > cat_t or (name == "div_" and cat_t != dtypes.FLOAT):
        raise RuntimeError(
            f"{name}: result type {'Float' if kind == 'f' or name == 'div_' else 'Long'} can't "
            f"be cast to the desired output type {t.dtype} (in-place ops keep the tensor's "
            f"dtype; use the out-of-place form)"
        )


def _fill(t: Tensor, value, name: str) -> Tensor:
    """t.fill_(value) / t.zero_(): one NumPy call when no graph is recorded (`p.grad.zero_()`
    in every step), else recorded as Fill (or Where for a tensor value) with history rebased."""
    is_tensor = isinstance(value, Tensor)
    if is_tensor and value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                           f"with {value.ndim} dimensions.")
    if not recorded(t, value):
        try:
            t.array.fill(value.item() if is_tensor else value)
        except ValueError:  # NumPy refuses a read-only (expanded) array: say why in our words
            _writable(t, name)
            raise
        t._version[0] += 1
        return t
    if is_tensor:
        return _inplace_unary(t, lambda x: elementwise.Where.apply(
            True, value.to(x.dtype).expand(x.shape), x), name)
    return _inplace_unary(t, lambda x: elementwise.Fill.apply(x, value), name)


def _writable(t: Tensor, name: str) -> None:
    if not t.array.flags.writeable:
        raise RuntimeError(
            f"{name}: unsupported operation: more than one element of the written-to tensor "
            f"refers to a single memory location (an expanded tensor). Please clone() the "
            f"tensor before performing the operation."
        )


def _inplace_unary(t: Tensor, fn, name: str) -> Tensor:
    """Replace t's values by fn(t), keeping the autograd history right (PyTorch's rebase).

    With grad recorded, fn sees a snapshot of t (old values, t's place in the graph); t then
    takes the result's values and history. If t is a view, its base is rebased too: the base
    becomes "base with this view's region replaced", so gradients reach the base's history.
    """
    _writable(t, name)
    if not _state.enabled:
        result = fn(t)
        _assign(t, result.array, name)
        t._version[0] += 1
        _carry_tangents(t, result)
        return t
    _inplace_check(t, name)
    old = Tensor._make(t.array.copy(), t.grad_fn, t._output_nr, t.requires_grad)
    old._tangents = t._tangents
    result = fn(old)
    if result.array.shape != t.array.shape:
        raise RuntimeError(f"{name}: output with shape {list(t.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    if dtypes.category(result.array.dtype) > dtypes.category(t.array.dtype):
        raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired "
                           f"output type {t.dtype}")
    if result.array.dtype != t.array.dtype:
        result = result.to(t.dtype)
    base = t._base
    if result.requires_grad and base is not None and t._view_spec is not None:
        spec = t._view_spec

        def view_fn(b):
            return replay_view(spec, b)

        old_base = Tensor._make(base.array.copy(), base.grad_fn, base._output_nr,
                                base.requires_grad)
        new_base = indexing.ViewScatter.apply(old_base, result, view_fn)
        _assign(t, result.array, name)
        base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, 0, True
        base._version[0] += 1
        view = view_fn(base)
        t.grad_fn, t._output_nr, t._requires_grad = view.grad_fn, 0, True
        _carry_tangents(t, result)
        return t
    _assign(t, result.array, name)
    t._version[0] += 1
    if result.requires_grad:
        t.grad_fn, t._output_nr, t._requires_grad = result.grad_fn, 0, True
    _carry_tangents(t, result)
    return t


def recorded(a, b=None) -> bool:
    """Whether an operation on a (and b) must run as an op, with a history, rather than in
    NumPy: grad is enabled and an operand requires grad, or an operand carries a tangent at
    an active level (forward mode).

    In-place ops ask it (otherwise NumPy writes into a's memory), and so do the helpers that
    rules compute with (sum_to, _scale, _mul, _sub, _add, _mm): a plain backward or a
    first-order jvp needs no history, create_graph and higher orders do.
    """
    if _state.enabled and (a._requires_grad or (isinstance(b, Tensor) and b._requires_grad)):
        return True
    levels = _state.dual_levels
    return bool(levels) and any(isinstance(v, Tensor) and v._tangents and
                                any(k in v._tangents for k in levels) for v in (a, b))


def _carry_tangents(t: Tensor, result: Tensor) -> None:
    """Forward mode: t takes the tangents of the result that replaced its values in place; a
    view's base takes them in the view's region (as its values: ViewScatter)."""
    if not (result._tangents or t._tangents):
        return
    t._tangents = None
    for level, tangent in (result._tangents or {}).items():
        forward_ad._set_tangent(t, level, tangent)
    if t._base is None or t._view_spec is None:
        return
    spec, base = t._view_spec, t._base
    for level, tangent in (t._tangents or {}).items():
        old = forward_ad._tangent_of(base, level)
        forward_ad._set_tangent(base, level, indexing.ViewScatter.apply(
            old, tangent, lambda b: replay_view(spec, b)))


def _assign(t: Tensor, values: np.ndarray, name: str) -> None:
    _writable(t, name)
    np.copyto(t.array, values, casting="unsafe")


def _fill_random(t: Tensor, values, name: str) -> Tensor:
    with grad_mode.no_grad():
        _assign(t, np.asarray(values), name)
    t._version[0] += 1
    return t


from chainrule.autograd import forward_ad  # noqa: E402
from chainrule.ops import elementwise, indexing  # noqa: E402
from chainrule.tensor import Tensor, as_operand, binary_op  # noqa: E402
