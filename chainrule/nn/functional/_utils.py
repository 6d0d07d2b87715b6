"""Argument checks and small helpers shared by the chainrule.nn.functional modules.

Each check raises the exception type PyTorch raises for the same mistake, with a message that
names the op, the offending value and the fix. `ntuple` is also what the layer modules use to
store their per-dimension arguments.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from chainrule.ops.elementwise import Where
from chainrule.ops.shape import Reshape
from chainrule.tensor import Tensor


def check_tensor(value, op: str, name: str = "input", position: int = 1) -> Tensor:
    """`value` itself if it is a Tensor; PyTorch's TypeError naming the argument if not."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def check_float(input: Tensor, op: str) -> None:
    """PyTorch has no integer kernel for these ops: it raises NotImplementedError."""
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f"{op}: expected a floating point input, got {input.dtype} "
                                  f"(convert with .float())")


def same_dtype(op: str, x: Tensor, *others) -> None:
    """Each (name, tensor) of `others` that is given has x's dtype (no silent promotion)."""
    for name, t in others:
        if t is not None and t.array.dtype != x.array.dtype:
            raise RuntimeError(f"{op}: input ({x.dtype}) and {name} ({t.dtype}) must have the "
                               f"same dtype; convert one of them (e.g. model.double() or "
                               f"x.float())")


def legacy_reduction(size_average, reduce, stacklevel: int) -> str:
    """PyTorch's reduction for the deprecated size_average / reduce flags, with its warning
    (stacklevel as warnings.warn counts it from here)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=stacklevel)
    return reduction


def ntuple(value, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of 1 or n ints as n ints (PyTorch's _single / _pair)."""
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
        raise RuntimeError(f"{op}(): {name} must either be a single int, or a tuple of {n} "
                           f"ints; got {len(value)} ints {tuple(value)}")
    raise TypeError(f"{op}(): {name} must be an int or a tuple of {n} ints, got {value!r}")


def spatial(value, nd: int, unit: int, name: str, op: str) -> tuple:
    """A per-dimension argument as (H, W): 1-D ops get `unit` for their unit H axis."""
    return ntuple(value, 2, name, op) if nd == 2 else (unit,) + ntuple(value, 1, name, op)


def reshape_to(t: Tensor, shape: tuple) -> Tensor:
    """t in `shape`, recorded only when the shape changes."""
    return t if t.array.shape == shape else Reshape.apply(t, shape)


def batched(x: Tensor, nd: int, op: str, what: str = "input") -> tuple:
    """(x as (N, C, H, W), restore): unbatched inputs gain N; 1-D inputs gain a unit H.

    The kernels in chainrule.ops.conv are 2-D and batched; `restore` undoes both additions on
    their output.
    """
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
    x4 = reshape_to(x, shape)

    def restore(out: Tensor) -> Tensor:
        s = out.array.shape
        if nd == 1:
            s = s[:2] + s[3:]
        if unbatched:
            s = s[1:]
        return reshape_to(out, s)

    return x4, restore


def nograd(array) -> Tensor:
    """A constant Tensor (a mask, a fill value): no graph, no gradient."""
    return Tensor._make(np.asarray(array), None, 0, False)


def where(cond: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """a where cond, else b; the gradient flows to the branch that was picked."""
    return Where.apply(cond.array, a, b)
