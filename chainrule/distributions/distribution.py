"""The Distribution base class and the helpers its subclasses share (as torch.distributions).

A distribution has a batch_shape (independent distributions side by side, from broadcasting
its parameters) and an event_shape (the shape of one draw: () for a scalar law, (n,) for an
n-dimensional one). A draw of `sample(sample_shape)` has shape
sample_shape + batch_shape + event_shape.

`validate_args` (on by default, off under `python -O`, as torch) checks each parameter against
`arg_constraints` when the distribution is built and each value given to `log_prob` against
`support`, raising ValueError; switch it off per instance or with
`Distribution.set_default_validate_args(False)`.
"""

from __future__ import annotations

import numpy as np

from chainrule.tensor import Size, Tensor


class lazy_property:  # noqa: N801 - torch's name
    """Computed on first access, then stored on the instance (probs from logits and back)."""

    def __init__(self, fn):
        self.fn, self.__doc__ = fn, fn.__doc__

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = self.fn(instance)
        instance.__dict__[self.fn.__name__] = value
        return value


def _defined_by_subclass(name: str) -> property:
    """A property each distribution defines; read on one that does not, it raises
    NotImplementedError naming the distribution and the property."""
    def missing(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement {name}")
    return property(missing)


class Distribution:
    """Base of every distribution: shapes, argument validation, and the methods to override."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints: dict = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_params()

    def _validate_params(self) -> None:
        from chainrule.distributions import constraints

        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                         lazy_property):
                continue  # derived from the parameter actually given, which is checked
            value = getattr(self, param)
            if not constraint.check(value).array.all():
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                    f"{constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    support = _defined_by_subclass("support")
    mean = _defined_by_subclass("mean")
    mode = _defined_by_subclass("mode")
    variance = _defined_by_subclass("variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, outside the graph."""
        from chainrule.autograd.grad_mode import no_grad

        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(
            f"{type(self).__name__} has no rsample (no reparameterisation: its draws are not a "
            f"differentiable function of its parameters); use sample() with a score-function "
            f"estimator (log_prob(x) * reward) instead")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=()) -> Size:
        if isinstance(sample_shape, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}.sample: sample_shape must be a tuple or "
                            f"torch.Size, got the int {sample_shape}; write ({sample_shape},)")
        return Size(tuple(sample_shape) + self._batch_shape + self._event_shape)

    def _validate_sample(self, value) -> None:
        """The checks of log_prob's value: a Tensor, the event shape, broadcastable, in support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        start = value.ndim - len(self._event_shape)
        if value.shape[start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {Size(expected)}.")
        if not self.support.check(value).array.all():
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({self.support!r}) of the distribution {self!r}, "
                f"but found invalid values:\n{value}")

    def __repr__(self) -> str:
        shown = [f"{p}: {v if v.numel() == 1 else v.size()}" for p in self.arg_constraints
                 if isinstance(v := self.__dict__.get(p), Tensor)]
        return f"{type(self).__name__}({', '.join(shown)})"


def broadcast_all(*values):
    """Parameters as Tensors of one broadcast shape; numbers take the first tensor's dtype."""
    import chainrule as cr

    for v in values:
        if not isinstance(v, (Tensor, int, float, np.integer, np.floating)):
            raise ValueError(f"Input arguments must all be instances of numbers or Tensors, "
                             f"got {type(v).__name__}")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else cr.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else cr.tensor(float(v), dtype=dtype) for v in values]
    return tuple(cr.broadcast_tensors(*tensors))


def probs_to_logits(probs, is_binary: bool = False):
    """Logits of probabilities clamped into [eps, 1 - eps] (so never +-inf)."""
    eps = float(np.finfo(probs.array.dtype).eps)
    p = probs.clamp(min=eps, max=1 - eps)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary: bool = False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)
