"""Categorical(probs= or logits=): one of K classes, over the last dim of the parameter."""

from __future__ import annotations

import numpy as np

from chainrule.distributions import constraints
from chainrule.distributions.distribution import (
    Distribution,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from chainrule.tensor import Tensor


class Categorical(Distribution):
    """P(x = k) = probs[..., k]; probs are normalised to sum 1, logits to logsumexp 0.

    log_prob(k) = logits[..., k]   (the normalised logits are the log-probabilities)
    entropy     = -sum_k probs[k] logits[k]
    No rsample (a draw is discrete); sample draws by inverting the cumulative probabilities.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        name, param = ("probs", probs) if probs is not None else ("logits", logits)
        if not isinstance(param, Tensor):
            raise TypeError(f"Categorical: `{name}` must be a Tensor, got {type(param).__name__}")
        if param.ndim < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], (), validate_args)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        import chainrule as cr

        return cr.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return self.mean

    def sample(self, sample_shape=()):
        from chainrule.random import numpy_rng

        shape = self._extended_shape(sample_shape)
        cdf = np.cumsum(self.probs.array.astype(np.float64), -1)
        u = numpy_rng().random(shape + (1,)) * cdf[..., -1:]
        # the class is the number of cumulative probabilities below u
        k = np.minimum((cdf < u).sum(-1), self._num_events - 1)
        return Tensor._make(np.asarray(k, dtype=np.int64), None, 0, False)

    def log_prob(self, value):
        import chainrule as cr

        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        index, log_pmf = cr.broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self):
        # logits of a zero probability are -inf; finfo.min keeps 0 * logit at 0, not nan
        logits = self.logits.clamp(min=float(np.finfo(self.logits.array.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True):
        import chainrule as cr

        values = cr.arange(self._num_events).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
