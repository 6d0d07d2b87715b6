"""torch.testing.assert_close: are two results equal up to a tolerance, and if not, where.

Inputs may be Tensors, NumPy arrays, Python numbers, bools, None, and lists / tuples / dicts
of them (compared item by item). Defaults as torch: tolerances from the dtypes (the looser of
the two), exact equality for integers and bools; dtypes, shapes and the kinds of the inputs
must match. A mismatch raises AssertionError with torch's message: how many elements differ,
the greatest absolute and relative differences and where, and the tolerances allowed.
"""

from __future__ import annotations

import collections.abc as abc
import math

import numpy as np

# (rtol, atol) per floating dtype, torch's table; integers and bools compare exactly
_PRECISIONS = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}
_NUMBER_DTYPES = {int: np.dtype(np.int64), float: np.dtype(np.float64)}


class _Mismatch(Exception):
    """A failed comparison: its exception type, message and the item path where it happened."""

    def __init__(self, kind, message, path=()):
        super().__init__(message)
        self.kind, self.message, self.path = kind, message, path

    def error(self, msg=None):
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.message
        if self.path:
            text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in self.path)
        return self.kind(msg(text) if callable(msg) else text)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless |actual - expected| <= atol + rtol * |expected| everywhere.

    rtol and atol are given together or not at all. `msg` replaces the message (a str) or
    rewrites it (a callable taking the generated message). check_device and check_layout hold
    for every chainrule tensor (one device, one layout); check_stride compares strides.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_dtype=check_dtype, check_stride=check_stride)
    pairs = []
    try:
        _pair_up(actual, expected, (), pairs, options)
    except _Mismatch as m:  # structure and type errors: the message is not replaced by msg
        raise m.error() from None
    for a, e, path in pairs:
        try:
            _compare(a, e, options)
        except _Mismatch as m:
            m.path = path
            raise m.error(msg) from None


def _pair_up(actual, expected, path, pairs, options):
    """Walk matching sequences and mappings down to the leaves, collected into `pairs`."""
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                                            f"{len(actual)} != {len(expected)}", path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _pair_up(a, e, path + (i,), pairs, options)
        return
    if isinstance(actual, abc.Mapping) and isinstance(expected, abc.Mapping):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            raise _Mismatch(AssertionError, "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: {sorted(missing, key=str)}\n"
                            f"Additional keys in the actual mapping: {sorted(extra, key=str)}",
                            path)
        for k in actual:
            _pair_up(actual[k], expected[k], path + (k,), pairs, options)
        return
    if _kind(actual, options) is None or _kind(actual, options) != _kind(expected, options):
        raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                                   f"{type(actual)} and {type(expected)}.", path)
    pairs.append((actual, expected, path))


def _is_sequence(x) -> bool:
    return isinstance(x, abc.Sequence) and not isinstance(x, str)


def _kind(x, options):
    """Which comparison handles x: 'none', 'bool', 'number', or the tensor-like's type."""
    from chainrule.tensor import Tensor

    if x is None:
        return "none"
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    if isinstance(x, (int, float)):
        return "number"
    if isinstance(x, Tensor):
        return Tensor if options["allow_subclasses"] else type(x)
    if isinstance(x, np.ndarray):
        return np.ndarray
    return None


def _compare(actual, expected, options):
    if actual is None:
        return
    if isinstance(actual, (bool, np.bool_)):
        if bool(actual) != bool(expected):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if isinstance(actual, (int, float)):
        _compare_numbers(actual, expected, options)
        return
    _compare_tensors(actual, expected, options)


def _compare_numbers(actual, expected, options):
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                        f"{type(expected)}.")
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(v)] for v in (actual, expected)], options)
    if _number_close(actual, expected, rtol, atol, options["equal_nan"]):
        return
    abs_diff = abs(actual - expected)
    rel_diff = math.inf if expected == 0 else abs_diff / abs(expected)
    raise _Mismatch(AssertionError, _message("Scalars", f"Expected {expected} but got {actual}.",
                                             abs_diff, None, atol, rel_diff, None, rtol))


def _number_close(a, e, rtol, atol, equal_nan) -> bool:
    if math.isnan(a) or math.isnan(e):
        return equal_nan and math.isnan(a) and math.isnan(e)
    if a == e:
        return True  # equal infinities included
    return math.isfinite(a) and math.isfinite(e) and abs(a - e) <= atol + rtol * abs(e)


def _tolerances(dtypes, options):
    if options["rtol"] is not None:
        return options["rtol"], options["atol"]
    rtols, atols = zip(*(_PRECISIONS.get(d, (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)


def _compare_tensors(actual, expected, options):
    a, e = (x.array if hasattr(x, "array") else x for x in (actual, expected))
    if a.shape != e.shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                                        f"{_size(a.shape)} != {_size(e.shape)}.")
    rtol, atol = _tolerances([a.dtype, e.dtype], options)
    if a.dtype != e.dtype:
        if options["check_dtype"]:
            raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                                            f"{_dtype(a.dtype)} != {_dtype(e.dtype)}.")
        common = _promote(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if options["check_stride"] and hasattr(actual, "stride") and \
            actual.stride() != expected.stride():
        raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not match: "
                                        f"{actual.stride()} != {expected.stride()}.")
    if a.dtype.kind == "f":
        matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
    else:
        matches = np.asarray(a == e) if rtol == atol == 0 else np.isclose(a, e, rtol, atol)
    if matches.all():
        return
    raise _Mismatch(AssertionError, _tensor_message(a, e, matches, rtol, atol))


def _tensor_message(a, e, matches, rtol, atol) -> str:
    if a.ndim == 0:
        abs_diff = abs(a.item() - e.item())
        rel_diff = math.inf if e.item() == 0 else abs_diff / abs(e.item())
        return _message("Scalars", f"Expected {e.item()} but got {a.item()}.", abs_diff, None,
                        atol, rel_diff, None, rtol)
    if a.dtype.kind != "f":  # differences of integers in int64 (no overflow), ratios in float32
        a, e = a.astype(np.int64), e.astype(np.int64)
    abs_diff = np.abs(a - e)
    abs_diff[matches] = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = (abs_diff / np.abs(e)).astype(a.dtype if a.dtype.kind == "f" else np.float32)
    rel_diff[matches] = 0
    where = [tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), a.shape))
             for d in (abs_diff, rel_diff)]
    n, bad = matches.size, int(matches.size - matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    return _message("Tensor-likes", extra, abs_diff[where[0]].item(), where[0], atol,
                    rel_diff[where[1]].item(), where[1], rtol)


def _message(what, extra, abs_diff, abs_at, atol, rel_diff, rel_at, rtol) -> str:
    """torch's layout: header, the extra line, then the two greatest differences."""
    exact = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if exact else 'close'}!", "", extra]
    for name, diff, at, tol in (("absolute", abs_diff, abs_at, atol),
                                ("relative", rel_diff, rel_at, rtol)):
        line = (f"{name.title()} difference: {diff}" if at is None else
                f"Greatest {name} difference: {diff} at index {at}")
        lines.append(line if exact else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _size(shape) -> str:
    return f"torch.Size({list(shape)})"


def _dtype(np_dtype) -> str:
    from chainrule.dtypes import from_numpy_dtype

    try:
        return repr(from_numpy_dtype(np_dtype))
    except TypeError:
        return str(np_dtype)


def _promote(a, b):
    """The common dtype by torch's rule (a category beats width: int32 with float16 is float16)."""
    if (a.kind == "f") != (b.kind == "f"):
        return a if a.kind == "f" else b
    return np.promote_types(a, b)
