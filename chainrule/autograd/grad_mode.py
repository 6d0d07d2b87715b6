"""Grad modes: whether ops record the graph. Thread-local, as in PyTorch.

Each mode is a context manager and, used bare or called, a decorator:

    with no_grad(): ...          @no_grad()            @no_grad
    with set_grad_enabled(False): ...
"""

from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    enabled = True
    # forward mode: the active dual levels (forward_ad.dual_level); with `enabled`, what
    # views.recorded reads to decide whether an operation must run as an op
    dual_levels = ()


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    return getattr(_state, "inference", False)


class _GradMode:
    """Base of the modes: sets `enabled` on entry, restores the previous value on exit."""

    enabled: bool = True
    _wrapped = None  # set on the copy returned by a decorator

    def __new__(cls, orig_func=None, *args, **kwargs):
        # `@no_grad` without parentheses hands us the function: return it wrapped, as PyTorch
        # does (so it keeps its __name__ and stays a plain function).
        if callable(orig_func):
            return cls()(orig_func)
        return object.__new__(cls)  # (no __init__: `with no_grad():` runs in every step)

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, *args, **kwargs):
        if self._wrapped is not None:
            return self._wrapped(*args, **kwargs)
        (func,) = args
        if inspect.isgeneratorfunction(func):
            raise TypeError(f"{type(self).__name__} cannot decorate a generator function")

        @functools.wraps(func)
        def wrapper(*a, **k):
            with self.clone():
                return func(*a, **k)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Ops inside record no graph: results do not require grad. Use for updates and eval."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a `no_grad` block."""

    enabled = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """`set_grad_enabled(False)` is `no_grad()`; it also takes effect when called as a function."""

    def __init__(self, mode: bool):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(mode) expects a bool, got {type(mode).__name__}")
        self.enabled = mode
        self._wrapped = None
        self._prev = _state.enabled
        _state.enabled = mode  # PyTorch applies it at once, so a bare call works too

    def __enter__(self):
        return self

    def __call__(self, func):
        _state.enabled = self._prev  # used as a decorator: the mode applies only inside func
        return super().__call__(func)

    def clone(self):
        return _Setter(self.enabled)


class _Setter(_GradMode):
    def __init__(self, mode: bool):
        self.enabled = mode
        self._wrapped = None


class inference_mode(_GradMode):  # noqa: N801
    """Like `no_grad` (chainrule keeps no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self._wrapped = None
        self.enabled = not mode

    def __enter__(self):
        self._prev_inf = getattr(_state, "inference", False)
        _state.inference = not self.enabled
        return super().__enter__()

    def __exit__(self, *exc):
        _state.inference = self._prev_inf
        return super().__exit__(*exc)

    def clone(self):
        return inference_mode(not self.enabled)
