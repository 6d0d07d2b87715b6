"""Where parameters and values of a distribution may lie (torch.distributions.constraints).

`check(value)` returns a bool Tensor over the batch (event dims reduced), the test that
`validate_args` runs on each parameter and on each value given to `log_prob`.
"""

from __future__ import annotations

import numpy as np


def _array(value):
    return value.array if hasattr(value, "array") else np.asarray(value)


def _as_tensor(ok):
    from chainrule.tensor import Tensor

    return Tensor._make(np.asarray(ok, dtype=np.bool_), None, 0, False)


class Constraint:
    """A region of values; `event_dim` is how many rightmost dims form one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        return _as_tensor(self._ok(_array(value)))

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """Depends on other parameters (Uniform's low / high): not checked on its own."""

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class _Real(Constraint):
    def _ok(self, a):
        return a == a  # False only for NaN


class _Boolean(Constraint):
    is_discrete = True

    def _ok(self, a):
        return (a == 0) | (a == 1)


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _ok(self, a):
        return self.lower_bound < a

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    """lower <= x <= upper (`half_open`: lower <= x < upper, Uniform's support)."""

    def __init__(self, lower_bound, upper_bound, half_open=False):
        self.lower_bound, self.upper_bound, self.half_open = lower_bound, upper_bound, half_open

    def _ok(self, a):
        low, high = _array(self.lower_bound), _array(self.upper_bound)
        return (low <= a) & ((a < high) if self.half_open else (a <= high))

    def __repr__(self) -> str:
        name = "HalfOpenInterval" if self.half_open else "Interval"
        return f"{name}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerInterval(_Interval):
    is_discrete = True

    def _ok(self, a):
        return (a % 1 == 0) & super()._ok(a)

    def __repr__(self) -> str:
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _RealVector(Constraint):
    event_dim = 1

    def _ok(self, a):
        return (a == a).all(-1)

    def __repr__(self) -> str:
        return "IndependentConstraint(Real(), 1)"


class _Simplex(Constraint):
    event_dim = 1

    def _ok(self, a):
        return (a >= 0).all(-1) & (np.abs(a.sum(-1) - 1) < 1e-6)


class _LowerCholesky(Constraint):
    event_dim = 2

    def _ok(self, a):
        lower = (np.tril(a) == a).all((-2, -1))
        return lower & (np.diagonal(a, axis1=-2, axis2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    event_dim = 2

    def _ok(self, a):
        symmetric = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).all((-2, -1))
        ok = np.zeros(a.shape[:-2], dtype=bool)
        for i in np.ndindex(*a.shape[:-2]):
            try:
                np.linalg.cholesky(a[i])
                ok[i] = symmetric[i]
            except np.linalg.LinAlgError:
                pass
        return ok


dependent = _Dependent()
real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
real_vector = _RealVector()
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()


def interval(lower_bound, upper_bound):
    return _Interval(lower_bound, upper_bound)


def half_open_interval(lower_bound, upper_bound):
    return _Interval(lower_bound, upper_bound, half_open=True)


def integer_interval(lower_bound, upper_bound):
    return _IntegerInterval(lower_bound, upper_bound)


def greater_than(lower_bound):
    return _GreaterThan(lower_bound)


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)
