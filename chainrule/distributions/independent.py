"""Independent(base, n): the rightmost n batch dims of `base` read as one event.

Independent(Normal(mu, sigma), 1) is a diagonal Gaussian over vectors (a VAE's posterior): its
log_prob sums the per-coordinate log-densities, and its batch shape loses those dims.
"""

from __future__ import annotations

from chainrule.distributions.distribution import Distribution


def _sum_rightmost(t, n: int):
    return t.sum(tuple(range(-n, 0))) if n > 0 else t


def _from_base(name: str) -> property:
    """A property that reads the base distribution's own."""
    return property(lambda self: getattr(self.base_dist, name))


class Independent(Distribution):
    """log_prob(x) = sum over the last n dims of base.log_prob(x); entropy likewise."""

    arg_constraints: dict = {}

    def __init__(self, base_distribution, reinterpreted_batch_ndims: int, validate_args=None):
        n = reinterpreted_batch_ndims
        if n > len(base_distribution.batch_shape):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= "
                             f"len(base_distribution.batch_shape), actual {n} vs "
                             f"{len(base_distribution.batch_shape)}")
        shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        event_dim = n + len(base_distribution.event_shape)
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:],
                         validate_args)

    has_rsample = _from_base("has_rsample")
    support = _from_base("support")
    mean = _from_base("mean")
    mode = _from_base("mode")
    variance = _from_base("variance")

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return _sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dist}, {self.reinterpreted_batch_ndims})"
