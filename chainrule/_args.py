"""Argument checks shared by the whole library, with one message style.

Every check raises the exception type PyTorch raises for the same mistake, and its message
names the op, the offending values or shapes, and the fix.

This module imports nothing from chainrule but dtypes, so every module can use it (tensor.py
included). A Tensor argument is recognised by its `.array` (the ndarray it holds), as in
dtypes.result_type.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from chainrule import dtypes

_int = (builtins.int, np.integer)


# ---------------------------------------------------------------------- dims
def to_axis(dim, ndim: int, op: str) -> int:
    """A PyTorch dim (negative counts from the end) as a NumPy axis, checked."""
    if not isinstance(dim, _int) or isinstance(dim, builtins.bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} ({dim!r})")
    n = max(ndim, 1)  # PyTorch lets 0-d tensors use dim 0 / -1
    if not -n <= dim < n:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return builtins.int(dim) % n if ndim else 0


def to_axes(dim, ndim: int, op: str):
    """dim=None | int | tuple of ints to NumPy's axis (None, int or tuple), checked."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        axes = tuple(to_axis(d, ndim, op) for d in dim)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"{op}(): dim {list(dim)} appears multiple times in the list of "
                               f"dims")
        return axes if ndim else None
    axis = to_axis(dim, ndim, op)  # checked on 0-d tensors too: only dim 0 / -1 is valid there
    return axis if ndim else None


def need_2d(t, op: str) -> None:
    """RuntimeError unless tensor t has at least two dimensions (tril, triu)."""
    if t.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got {t.ndim}")


def nonempty(t, op: str, dim=None) -> None:
    """A reduction over every element (no dim given) needs at least one element."""
    if t.array.size == 0 and (dim is None or dim == ()):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")


# ---------------------------------------------------------------------- shapes
def shape_args(args, op: str, allow_minus_one: bool = False) -> tuple:
    """Shapes as varargs `f(2, 3)` or one sequence `f((2, 3))`; every size an int."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):  # (torch.Size is a tuple)
        args = tuple(args[0])
    elif len(args) == 1 and isinstance(getattr(args[0], "array", None), np.ndarray) and \
            args[0].ndim == 1:  # a 1-d tensor of sizes
        args = tuple(args[0].tolist())
    out = []
    for a in args:
        if isinstance(a, builtins.bool) or not isinstance(a, _int) and not hasattr(a, "array"):
            raise TypeError(f"{op}(): sizes must be ints, got {type(a).__name__} ({a!r}) in "
                            f"{list(args)}")
        a = operator.index(a)  # a one-element integer tensor counts as an int
        if a < 0 and not (allow_minus_one and a == -1):
            raise RuntimeError(f"{op}(): sizes must be non-negative, got {list(args)}")
        out.append(a)
    return tuple(out)


def infer_shape(shape: tuple, numel: int, op: str, t) -> tuple:
    """`shape` with its one -1 filled in so that it holds `numel` elements (t's), checked."""
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} "
                               f"({op} of a tensor of shape {list(t.shape)})")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel} "
                           f"({op} of a tensor of shape {list(t.shape)})")
    return shape


def viewable(array: np.ndarray, shape: tuple) -> bool:
    """Whether `array` can take `shape` without a copy (what view() needs)."""
    if array.flags.c_contiguous:
        return True
    try:
        v = array.view()
        v.shape = shape  # NumPy raises when this would need a copy
        return True
    except AttributeError:
        return False


def broadcast_shapes(a: tuple, b: tuple, op: str) -> tuple:
    """The shape `a` and `b` broadcast to; RuntimeError naming both if they do not.

    Shapes are aligned from the right; each pair of sizes must be equal or contain a 1.
    """
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        pass
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
            raise RuntimeError(
                f"{op}: The size of tensor a ({a[-i]}) must match the size of tensor b "
                f"({b[-i]}) at non-singleton dimension {max(len(a), len(b)) - i} (shapes "
                f"{list(a)} and {list(b)} do not broadcast; use reshape/unsqueeze to line "
                f"them up)") from None
    raise AssertionError(f"{op}: np.broadcast_shapes refused {a} and {b}")  # pragma: no cover


def check_broadcast(a: np.ndarray, b, op: str) -> None:
    """broadcast_shapes' RuntimeError unless arrays `a` and `b` broadcast (b may be a scalar).

    The loop settles the common case (they do) without NumPy's slower broadcast_shapes.
    """
    if isinstance(b, np.ndarray) and a.shape != b.shape:
        for x, y in zip(reversed(a.shape), reversed(b.shape)):
            if x != y and x != 1 and y != 1:
                broadcast_shapes(a.shape, b.shape, op)


# ---------------------------------------------------------------------- values
def to_array(data, op: str, default_float: np.dtype | None = None) -> np.ndarray:
    """Nested lists / scalars / arrays / Tensors to an ndarray, with a clear error if ragged."""
    if isinstance(getattr(data, "array", None), np.ndarray):  # a Tensor
        return data.array
    if isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in PyTorch
        arr = np.asarray(data)
    else:
        arr = _nested_to_array(data, op)
        if arr.dtype.kind == "f" and default_float is None:
            arr = arr.astype(dtypes.get_default_dtype().np)
    if arr.dtype.kind in "US":
        raise TypeError(f"{op}: can't convert strings to a tensor")
    if default_float is not None:
        arr = arr.astype(default_float)
    if arr.dtype.kind == "u" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    if arr.dtype not in dtypes._FROM_NUMPY:
        dtypes.from_numpy_dtype(arr.dtype)  # raises the TypeError naming the dtype
    return arr


def _nested_to_array(data, op: str) -> np.ndarray:
    """A number or nested lists (whose items may be Tensors) as one ndarray."""
    if isinstance(data, (list, tuple)) and any(hasattr(d, "array") for d in data):
        data = [d.array if hasattr(d, "array") else to_array(d, op) if isinstance(
            d, (list, tuple)) else d for d in data]
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(
            f"{op}: the nested sequence is ragged (sublists of different lengths) and "
            f"can't form a tensor; every row must have the same length ({e})"
        ) from None
    if arr.dtype == object:
        raise TypeError(
            f"{op}: can't build a tensor from an object of type {type(data).__name__} "
            f"(elements must be numbers or bools in nested lists of equal length)"
        )
    return arr


def cast_scalar(value, np_dtype: np.dtype, op: str):
    """A fill value as the Python number `np_dtype` holds for it, as PyTorch converts it.

    Anything becomes a bool; a float becomes an int by truncation (and float16 rounds); a
    value the dtype cannot hold (300 into uint8, NaN into int64, 1e40 into float32) is a
    RuntimeError. (A Python number, not a NumPy scalar: observers such as detect_anomaly
    read constants as Python numbers.)
    """
    if isinstance(value, np.generic):
        value = value.item()
    if np_dtype.kind == "b":
        return builtins.bool(value)
    if np_dtype.kind == "f":
        big = builtins.float(np.finfo(np_dtype).max)
        ok = not np.isfinite(value) or -big <= value <= big
    else:
        info = np.iinfo(np_dtype)
        ok = builtins.bool(np.isfinite(value)) and info.min <= value <= info.max
    if not ok:
        raise RuntimeError(f"{op}: value cannot be converted to type {np_dtype} without "
                           f"overflow (got {value!r}; use a wider dtype such as .to(float64))")
    return np_dtype.type(value).item()


def check_device(dev, op: str) -> None:
    """Only the CPU exists: 'cpu', 'cpu:0' and device('cpu') pass, anything else raises."""
    name = getattr(dev, "type", dev)  # a device object has .type, a string is its own name
    if isinstance(name, str) and name.split(":")[0] == "cpu":
        return
    raise RuntimeError(f"{op}: chainrule runs on the CPU only; device {str(dev)!r} is not "
                       f"available")
