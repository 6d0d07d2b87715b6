"""Printing tensors the way PyTorch does: `tensor([1., 2.], requires_grad=True)`."""

from __future__ import annotations

import math

import numpy as np


class _PrintOptions:
    """What `set_printoptions` sets: read at every print, so a change shows at once."""

    precision, threshold, edgeitems, linewidth = 4, 1000, 3, 80
    sci_mode: bool | None = None  # None: chosen from the values, as below


PRINT_OPTS = _PrintOptions()

# set_printoptions(profile=...): PyTorch's three presets of (precision, threshold, edgeitems,
# linewidth); any option also given overrides its preset value.
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """torch.set_printoptions: every option left None keeps its value, except sci_mode,
    which None returns to automatic (PyTorch's rule)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = _PROFILES[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, as keyword arguments for set_printoptions."""
    return {"precision": PRINT_OPTS.precision, "threshold": PRINT_OPTS.threshold,
            "edgeitems": PRINT_OPTS.edgeitems, "linewidth": PRINT_OPTS.linewidth,
            "sci_mode": PRINT_OPTS.sci_mode}


class _Formatter:
    """PyTorch's element format, chosen once from the values shown (torch/_tensor_str.py).

    Floats: integer-valued -> `3.`; a range wider than 1000x, a value above 1e8 or below 1e-4
    -> `1.0000e+00`; else `3.1416`. Every element is right-aligned to the widest one.
    `set_printoptions(sci_mode=...)` forces the notation; `precision` sets the digits.
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
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4 \
            if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode
        for v in vals.tolist():
            if self.sci_mode:
                n = len(f"{v:.{PRINT_OPTS.precision}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1
            else:
                n = len(f"{v:.{PRINT_OPTS.precision}f}")
            self.width = max(self.width, n)

    def format(self, v) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{PRINT_OPTS.precision}f}"
        return s.rjust(self.width)


def _summarized(array: np.ndarray) -> np.ndarray:
    """Only the edge items of every long dim: the values a summarised print shows."""
    e = PRINT_OPTS.edgeitems
    for axis, n in enumerate(array.shape):
        if n > 2 * e:
            array = array.take(np.r_[0:e, n - e:n], axis=axis)
    return array


def _vector(array: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    if summarize and array.shape[0] > 2 * PRINT_OPTS.edgeitems:
        data = [fmt.format(v) for v in array[:PRINT_OPTS.edgeitems].tolist()] + [" ..."] + \
            [fmt.format(v) for v in array[-PRINT_OPTS.edgeitems:].tolist()]
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
    if summarize and n > 2 * PRINT_OPTS.edgeitems:
        rows = [*range(PRINT_OPTS.edgeitems), None, *range(n - PRINT_OPTS.edgeitems, n)]
    parts = ["..." if i is None else _nested(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list, indent: int) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS.linewidth:
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
        summarize = array.size > PRINT_OPTS.threshold
        fmt = _Formatter(_summarized(array) if summarize else array)
        body = _nested(array, len(prefix), summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))

