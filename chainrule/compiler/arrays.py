"""TraceArray: an ndarray that tells the active tracer about every NumPy call it takes part in.

While a function is traced, every array a Tensor holds is handed out as a TraceArray (a view
of the same memory, so eager code runs on the real numbers). NumPy calls each of its three
override points for it:

    __array_ufunc__      np.add, a * b, a += b, np.matmul, np.add.reduce, np.add.at, ...
    __array_function__   np.where, np.einsum, np.zeros_like, np.concatenate, ...
    the methods below    a.reshape, a.T, a[key], a[key] = v, a.sum(), a.astype, ...

Each runs the call on plain views, then hands the call and its result to the tracer, which
records one line of the replay and names the result. A value leaving the arrays for Python
(`float(a)`, `a.item()`, `a.tolist()`) is reported too: the replay could not repeat the choice
that Python makes with it. Without an active tracer (a TraceArray kept after its trace) the
calls simply run.
"""

from __future__ import annotations

import numpy as np

_view = np.ndarray.view
_active = []  # the tracer recording now (a list, so that `tracing` can be nested)


def plain(x):
    """x with every TraceArray inside it (tuples, lists, dicts) as a plain ndarray view, and
    every Hyper as the float it is (NumPy treats float subclasses as float64 arrays)."""
    t = type(x)
    if t is TraceArray:
        return _view(x, np.ndarray)
    if t is Hyper:
        return float.__float__(x)
    if t is tuple or t is list:
        return t(plain(v) for v in x)
    if t is dict:
        return {k: plain(v) for k, v in x.items()}
    return x


def _run(fn, args, kwargs):
    """fn on plain arguments; recorded by the active tracer if there is one."""
    tracer = _active[-1] if _active else None
    if tracer is None or tracer.depth:
        return fn(*plain(args), **plain(kwargs))
    return tracer.call(fn, args, kwargs)


class TraceArray(np.ndarray):
    """An ndarray whose NumPy calls are recorded by the tracer that made it (see module doc)."""

    _node = None  # (its tracer's token, variable number) once a tracer has named this array

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return _run(fn, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _run(func, args, kwargs)

    # ---- values leaving the arrays for Python ----
    def __bool__(self):
        return _read(self, "bool")

    def __float__(self):
        return _read(self, "float")

    def __int__(self):
        return _read(self, "int")

    def __index__(self):
        return _read(self, "index")

    def __complex__(self):
        return _read(self, "complex")

    def item(self, *args):
        return _read(self, "item", *args)

    def tolist(self):
        return _read(self, "tolist")

    def __repr__(self):
        return _read(self, "repr")

    def __str__(self):
        return _read(self, "str")

    def __format__(self, spec):
        return _read(self, "format", spec)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    @property
    def T(self):
        return _run(np.ndarray.transpose, (self,), {})

    @property
    def mT(self):
        return _run(np.swapaxes, (self, -1, -2), {})


def _read(a: TraceArray, how: str, *args):
    """A value read into Python: the tracer decides (a recorded check or a graph break)."""
    value = getattr(_view(a, np.ndarray), _READERS[how])(*args)
    tracer = _active[-1] if _active else None
    if tracer is not None and not tracer.depth:
        tracer.value_read(a, how, value)
    return value


_READERS = {"bool": "__bool__", "float": "__float__", "int": "__int__", "index": "__index__",
            "complex": "__complex__", "item": "item", "tolist": "tolist", "repr": "__repr__",
            "str": "__str__", "format": "__format__"}


def _method(name: str):
    unbound = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        return _run(unbound, (self, *args), kwargs)

    method.__name__ = name
    return method


# ndarray methods that run in C without calling the override points above; each is recorded
# as the one method call it is (a.sum() is one line of the replay, not NumPy's inner steps).
METHODS = (
    "__getitem__", "__setitem__", "reshape", "transpose", "astype", "copy", "ravel", "flatten",
    "squeeze", "swapaxes", "view", "fill", "sort", "argsort", "argmax", "argmin", "sum", "mean",
    "max", "min", "prod", "any", "all", "std", "var", "cumsum", "cumprod", "clip", "round",
    "dot", "diagonal", "trace", "repeat", "take", "put", "nonzero", "conj", "conjugate",
    "partition", "argpartition", "searchsorted", "compress", "choose", "byteswap",
)
for _name in METHODS:
    setattr(TraceArray, _name, _method(_name))

# The ndarray methods that write into `self` (a recorded line, not a new value).
WRITES_SELF = {"__setitem__", "fill", "sort", "put", "partition"}
# NumPy functions that write into their first argument.
WRITES_FIRST = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis", "at"}


class Hyper(float):
    """An optimizer's float hyper-parameter (lr, momentum, ...) while a call is traced.

    Handed to a NumPy call it becomes an input of the replay, read from the param group on
    each call, so that an lr scheduler between calls needs no new trace. Python arithmetic
    on it (`1 - lr * wd`, `momentum != 0`) fixes its value in the trace instead: the tracer
    is told (`used`), and the guards then check the value.
    """

    def __new__(cls, value: float, path: str, used: set):
        h = float.__new__(cls, value)
        h.path, h.used = path, used
        return h

    def __reduce__(self):
        return (float, (float.__float__(self),))


def _python(name: str):
    op = getattr(float, name)

    def method(self, *args):
        self.used.add(self.path)
        return op(float.__float__(self), *args)

    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
              "__rpow__", "__neg__", "__pos__", "__abs__", "__eq__", "__ne__", "__lt__", "__le__",
              "__gt__", "__ge__", "__bool__", "__int__", "__float__", "__round__", "__trunc__",
              "__divmod__", "__rdivmod__", "__repr__", "__str__", "__format__"):
    setattr(Hyper, _name, _python(_name))
Hyper.__hash__ = float.__hash__
