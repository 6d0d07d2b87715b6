"""The torch.* functions: `torch.exp(x)` is `x.exp()`, plus the ones with several tensors.

The single-tensor functions forward to the Tensor method of the same name after checking that
the first argument is a Tensor (PyTorch raises a TypeError there too).
"""

from __future__ import annotations

import builtins

import numpy as np

from chainrule import dtypes
from chainrule._args import to_axis
from chainrule._legacy import takes_out
from chainrule.ops import shape as shp
from chainrule.tensor import Tensor, as_operand


def _method(name: str):
    method = getattr(Tensor, name)

    def fn(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return method(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, ...) is input.{name}(...)."
    return takes_out(name, fn) if name in OUT_FUNCTIONS else fn


# Each name below is a Tensor method of the same meaning (see tensor.py for its rules).
METHOD_FUNCTIONS = (
    "abs", "absolute", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "reciprocal", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "relu",
    "erf", "sign", "sgn", "floor", "ceil", "trunc", "frac", "round", "clamp", "clip",
    "clamp_min", "clamp_max", "neg", "negative", "add", "sub", "subtract", "mul", "multiply",
    "div", "divide", "true_divide", "floor_divide", "remainder", "pow", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num",
    "masked_fill", "lerp", "addcmul", "addcdiv", "diff",
    "sum", "nansum", "mean", "nanmean", "var", "std", "prod", "max", "min", "amax", "amin",
    "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "norm", "all", "any",
    "count_nonzero", "cumsum",
    "reshape", "flatten", "unflatten", "ravel", "squeeze", "unsqueeze", "transpose",
    "swapaxes", "swapdims", "t", "permute", "movedim", "moveaxis", "broadcast_to",
    "repeat_interleave",
    "tile", "flip", "fliplr", "flipud", "roll", "narrow", "split", "chunk", "tensor_split",
    "unbind", "tril", "triu", "diag", "diagonal", "trace", "gather", "scatter_add", "scatter",
    "index_select", "take_along_dim", "masked_select", "nonzero", "argsort", "sort", "topk",
    "unique", "matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger", "detach", "clone",
    "numel", "is_floating_point",
)

# The ones that take `out=` in PyTorch (the result is written into it: _legacy.write_out).
OUT_FUNCTIONS = frozenset((
    "abs", "absolute", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt",
    "square", "reciprocal", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "erf",
    "sign", "sgn", "floor", "ceil", "trunc", "frac", "round", "clamp", "clip", "clamp_min",
    "clamp_max", "neg", "negative", "add", "sub", "subtract", "mul", "multiply", "div",
    "divide", "true_divide", "floor_divide", "remainder", "pow", "maximum", "minimum", "eq",
    "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "isposinf", "isneginf",
    "nan_to_num", "lerp", "addcmul", "addcdiv", "diff", "sum", "nansum", "mean", "nanmean",
    "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
    "softmax", "log_softmax", "norm", "all", "any", "cumsum", "tril", "triu", "diag", "gather",
    "scatter_add", "scatter", "index_select", "take_along_dim", "masked_select", "nonzero",
    "sort", "topk", "matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger",
))

for _name in METHOD_FUNCTIONS:
    globals()[_name] = _method(_name)
del _name


def _tensors(seq, op: str) -> list:
    if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, got "
                        f"{type(seq).__name__}")
    if len(seq) == 0:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    for k, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {k} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(seq)


def cat(tensors, dim=0) -> Tensor:
    """Join along an existing dim; all other dims must agree."""
    ts = _tensors(tensors, "cat")
    # PyTorch skips legacy empty 1-D tensors of shape (0,)
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]
    ref = ts[0]
    if ref.ndim == 0:
        raise RuntimeError("cat(): zero-dimensional tensor (at position 0) cannot be "
                           "concatenated")
    d = to_axis(dim, ref.ndim, "cat")
    for k, t in enumerate(ts):
        # builtins.any: this module's `any` is torch.any (made from METHOD_FUNCTIONS below)
        if t.ndim != ref.ndim or builtins.any(
                a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise RuntimeError(
                f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(ref.shape)} (apart from dim {d}) but got size {list(t.shape)} for "
                f"tensor number {k} in the list."
            )
    dt = dtypes.result_type(*ts)
    ts = [t if t.array.dtype == dt else t.to(dt) for t in ts]
    return shp.Cat.apply(d, *ts)


concat = concatenate = cat


def stack(tensors, dim=0) -> Tensor:
    """Join along a new dim; all shapes must be equal."""
    ts = _tensors(tensors, "stack")
    for k, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0].shape)} at entry 0 and {list(t.shape)} at entry {k}")
    d = to_axis(dim, ts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in ts], d)


def hstack(tensors) -> Tensor:
    ts = _tensors(tensors, "hstack")
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    ts = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensors(tensors, "vstack")]
    return cat(ts, 0)


def dstack(tensors) -> Tensor:
    ts = _tensors(tensors, "dstack")
    ts = [t.reshape(1, -1, 1) if t.ndim < 2 else t.unsqueeze(-1) if t.ndim == 2 else t
          for t in ts]
    return cat(ts, 2)


def column_stack(tensors) -> Tensor:
    ts = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _tensors(tensors, "column_stack")]
    return cat(ts, 1)


def where(condition, input=None, other=None) -> Tensor:  # noqa: A002
    """input where condition else other, broadcasting all three; where(cond) gives indices."""
    from chainrule.ops.elementwise import Where

    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtypes.from_numpy_dtype(cond.dtype)}")
    a_t, b_t = isinstance(input, Tensor), isinstance(other, Tensor)
    if not a_t and not b_t:
        input = as_operand(input, Tensor._make(cond, None, 0, False), "where")
        a_t = True
    like = input if a_t else other
    dt = dtypes.result_type(*(v for v in (input, other)))
    shapes = [cond.shape] + [v.array.shape for v in (input, other) if isinstance(v, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"where: condition, input and other must broadcast together, got "
                           f"shapes {[list(s) for s in shapes]}") from None
    a = input.to(dt) if a_t else input
    b = other.to(dt) if b_t else other
    del like
    return Where.apply(cond, a, b)


# torch.cat(tensors, out=r) & co: the result written into r, as for the functions above
cat, stack, hstack, vstack, dstack, column_stack, where = (
    takes_out(f.__name__, f) for f in (cat, stack, hstack, vstack, dstack, column_stack, where))
concat = concatenate = cat


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t.array.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    from chainrule.tensor import Size

    return Size(np.broadcast_shapes(*shapes))


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel_of(t: Tensor) -> int:
    return t.numel()


def meshgrid(*tensors, indexing="ij"):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    n = len(ts)
    shape = [t.numel() for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        view = [1] * n
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view[pos] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def cdist(x1, x2, p=2.0):
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    from chainrule import linalg

    return linalg.vector_norm(diff, p, dim=-1)
