"""Uniform(low, high): constant density on [low, high), with a reparameterised rsample."""

from __future__ import annotations

from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution, broadcast_all


class Uniform(Distribution):
    """U[low, high), elementwise over the broadcast shape of low and high.

    log_prob(x) = -log(high - low) inside [low, high), -inf outside
    entropy     = log(high - low)
    rsample     = low + u * (high - low), u ~ U[0, 1)
    """

    arg_constraints = {"low": constraints.dependent, "high": constraints.dependent}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, (), validate_args)
        if self._validate_args and not (self.low.array < self.high.array).all():
            raise ValueError(f"Uniform is not defined when low >= high; got low={self.low}, "
                             f"high={self.high}")

    @property
    def support(self):
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.high * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        import chainrule as cr

        u = cr.rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        # the indicator is a constant factor: its log (0 or -inf) carries no gradient
        inside = (self.low <= value).type_as(self.low) * (self.high > value).type_as(self.low)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()
