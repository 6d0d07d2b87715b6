"""Printing tensors the way PyTorch does: `tensor([1., 2.], requires_grad=True)`."""

from __future__ import annotations

import numpy as np

_DEFAULT_SUFFIX_FREE = ("float32", "int64", "bool")


def _body(array: np.ndarray) -> str:
    if array.dtype.kind == "f":
        finite = array[np.isfinite(array)]
        ints = finite.size == 0 or np.all(finite == np.round(finite))
        big = finite.size and (np.abs(finite).max() >= 1e8 or (
            np.abs(finite[finite != 0]).min() < 1e-4 if np.any(finite != 0) else False))
        if ints and not big:
            one = _int_float
        elif big:
            one = "{:.4e}".format
        else:
            one = _fixed
        # PyTorch right-aligns every element to the widest one
        width = max((len(one(v)) for v in _sample(array)), default=0)
        fmt = {"float_kind": lambda v: one(v).rjust(width)}
        return np.array2string(array, separator=", ", formatter=fmt, prefix="tensor(",
                               threshold=1000, edgeitems=3, max_line_width=80)
    if array.dtype.kind == "b":
        return np.array2string(array, separator=", ", prefix="tensor(",
                               formatter={"bool": lambda v: "True" if v else "False"},
                               threshold=1000, edgeitems=3, max_line_width=80)
    return np.array2string(array, separator=", ", prefix="tensor(", threshold=1000,
                           edgeitems=3, max_line_width=80)


def _sample(array: np.ndarray):
    flat = array.ravel()
    if flat.size > 1000:  # summarised printing shows only the edges
        flat = np.concatenate([flat[:3], flat[-3:]])
    return flat


def _fixed(v) -> str:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.4f}"


def _int_float(v) -> str:
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.0f}."


def tensor_repr(t) -> str:
    array = t.array
    parts = [_body(array)]
    if array.size == 0 and array.shape != (0,):
        parts.append(f"size={tuple(array.shape)}")
    if array.dtype.name not in _DEFAULT_SUFFIX_FREE:
        parts.append(f"dtype=torch.{array.dtype.name}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        parts.append("requires_grad=True")
    return "tensor(" + ", ".join(parts) + ")"
