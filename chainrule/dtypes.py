"""Data types and PyTorch's type-promotion rules.

A `dtype` is a thin, immutable name for a NumPy dtype. Promotion follows PyTorch, not NumPy:

- categories are ordered bool < integer < floating;
- operands come in three tiers: tensors with dimensions, zero-dimensional tensors, and
  Python scalars. The result takes the highest category present; within that category the
  widest type of the *highest tier* that has it decides. So `float32 tensor * 2.5` stays
  float32, `float32 (3,) + float64 0-d` is float32, and `int64 tensor * 2.5` is the default
  float type (float32), never float64 as NumPy would say.
"""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - the PyTorch name
    """One of chainrule's element types (`chainrule.float32`, ...)."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._category = category
        self.is_floating_point = category == FLOAT
        self.is_signed = category != BOOL
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    @property
    def is_complex(self) -> bool:
        return False

    def to_real(self) -> dtype:
        return self


BOOL, INT, FLOAT = 0, 1, 2

float16 = half = dtype("float16", np.float16, FLOAT)
float32 = float = dtype("float32", np.float32, FLOAT)  # noqa: A001 - torch.float
float64 = double = dtype("float64", np.float64, FLOAT)
uint8 = dtype("uint8", np.uint8, INT)
int8 = dtype("int8", np.int8, INT)
int16 = short = dtype("int16", np.int16, INT)
int32 = int = dtype("int32", np.int32, INT)  # noqa: A001 - torch.int
int64 = long = dtype("int64", np.int64, INT)
bool = dtype("bool", np.bool_, BOOL)  # noqa: A001 - torch.bool

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NUMPY = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}

_default_float = float32


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d!r}")
    _default_float = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The chainrule dtype of a NumPy dtype, or a TypeError naming the unsupported one."""
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert NumPy dtype {np_dtype} to a chainrule dtype; supported: "
            + ", ".join(d.name for d in ALL)
        ) from None


def to_numpy_dtype(d) -> np.dtype:
    """Accepts a chainrule dtype, a NumPy dtype or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins_float:
        return _default_float.np
    if d is builtins_int:
        return np.dtype(np.int64)
    if d is builtins_bool:
        return np.dtype(np.bool_)
    return from_numpy_dtype(d).np


import builtins as _builtins  # noqa: E402 - names shadowed above by torch's dtype aliases

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def category(np_dtype: np.dtype) -> int:
    kind = np_dtype.kind
    return FLOAT if kind == "f" else BOOL if kind == "b" else INT


def scalar_category(value) -> int:
    if isinstance(value, (builtins_bool, np.bool_)):
        return BOOL
    if isinstance(value, (builtins_int, np.integer)):
        return INT
    return FLOAT


def result_type(*operands) -> np.dtype:
    """The NumPy dtype PyTorch gives an op over `operands` (Tensors or Python scalars).

    Three tiers, each keeping the widest dtype it has per category: dimensioned tensors,
    zero-dimensional tensors, Python scalars (whose dtype is the default for their category).
    """
    best = [None, None, None]  # per tier: (category, np dtype)
    for op in operands:
        data = getattr(op, "array", None)
        if isinstance(data, np.ndarray):
            tier, dt = (0 if data.ndim else 1), data.dtype
        else:
            tier = 2
            cat = scalar_category(op)
            dt = (np.dtype(np.bool_), np.dtype(np.int64), _default_float.np)[cat]
        cat = category(dt)
        cur = best[tier]
        if cur is None or cat > cur[0]:
            best[tier] = (cat, dt)
        elif cat == cur[0]:
            best[tier] = (cat, np.promote_types(cur[1], dt))
    top = max(b[0] for b in best if b is not None)
    for tier in best:
        if tier is not None and tier[0] == top:
            return tier[1]
    raise AssertionError("unreachable")


class finfo:  # noqa: N801 - the PyTorch name
    """Machine limits of a floating dtype, as torch.finfo (default: the default float dtype).

    eps: the gap between 1 and the next number; tiny == smallest_normal: the smallest positive
    normal number; resolution: 10 ** -(decimal digits); dtype: the dtype's name.
    """

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        d = _default_float if type is None else type
        if not isinstance(d, dtype):
            raise TypeError(f"finfo: expected a chainrule dtype, got {d!r}")
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type, got {d!r}. "
                            f"Use torch.iinfo to handle '{d!r}'")
        info = np.finfo(d.np)
        self.bits, self.dtype = info.bits, d.name
        self.eps, self.max, self.min = (builtins_float(v) for v in (info.eps, info.max, info.min))
        self.tiny = self.smallest_normal = builtins_float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins_int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - the PyTorch name
    """Machine limits of an integer dtype, as torch.iinfo: bits, min, max, dtype (its name)."""

    def __init__(self, type):  # noqa: A002 - torch's argument name
        if not isinstance(type, dtype):
            raise TypeError(f"iinfo: expected a chainrule dtype, got {type!r}")
        if type is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type, got {type!r}. "
                            f"Use torch.finfo to handle '{type!r}'")
        info = np.iinfo(type.np)
        self.bits, self.dtype = info.bits, type.name
        self.min, self.max = builtins_int(info.min), builtins_int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
