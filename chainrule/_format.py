"""Printing tensors the way PyTorch does: `tensor([1., 2.], requires_grad=True)`."""

from __future__ import annotations

import math

import numpy as np

_PRECISION, _THRESHOLD, _EDGEITEMS, _LINEWIDTH = 4, 1000, 3, 80


class _Formatter:
    """PyTorch's element format, chosen once from the values shown (torch/_tensor_str.py).

    Floats: integer-valued -> `3.`; a range wider than 1000x, a value above 1e8 or below 1e-4
    -> `1.0000e+00`; else `3.1416`. Every element is right-aligned to the widest one.
    """

    def __init__(self, shown: np.ndarray):
        self.floating = shown.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            for v in shown.ravel().tolist():
                self.width = max(self.width, len(str(v)))
            return
        flat = shown.ravel().astype(np.float64)  # float16 would overflow at 1e8
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        mag = np.abs(vals)
        lo, hi = mag.min(), mag.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        for v in vals.tolist():
            if self.sci_mode:
                n = len(f"{v:.{_PRECISION}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1
            else:
                n = len(f"{v:.{_PRECISION}f}")
            self.width = max(self.width, n)

    def format(self, v) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{_PRECISION}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{_PRECISION}f}"
        return s.rjust(self.width)


def _summarized(array: np.ndarray) -> np.ndarray:
    """Only the edge items of every long dim: the values a summarised print shows."""
    for axis, n in enumerate(array.shape):
        if n > 2 * _EDGEITEMS:
            array = array.take(np.r_[0:_EDGEITEMS, n - _EDGEITEMS:n], axis=axis)
    return array


def _vector(array: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((_LINEWIDTH - indent) / (fmt.width + 2)))
    if summarize and array.shape[0] > 2 * _EDGEITEMS:
        data = [fmt.format(v) for v in array[:_EDGEITEMS].tolist()] + [" ..."] + \
            [fmt.format(v) for v in array[-_EDGEITEMS:].tolist()]
    else:
        data = [fmt.format(v) for v in array.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if array.ndim == 0:
        return fmt.format(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, fmt)
    n = array.shape[0]
    rows = range(n)
    if summarize and n > 2 * _EDGEITEMS:
        rows = [*range(_EDGEITEMS), None, *range(n - _EDGEITEMS, n)]
    parts = ["..." if i is None else _nested(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _LINEWIDTH:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(out) + ")"


def tensor_repr(t) -> str:
    from chainrule.dtypes import get_default_dtype

    array = t.array
    prefix = "tensor("
    suffixes = []
    default = get_default_dtype().np
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != default:
            suffixes.append(f"dtype=torch.{array.dtype.name}")
        body = "[]"
    else:
        if array.dtype not in (default, np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append(f"dtype=torch.{array.dtype.name}")
        summarize = array.size > _THRESHOLD
        fmt = _Formatter(_summarized(array) if summarize else array)
        body = _nested(array, len(prefix), summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))

