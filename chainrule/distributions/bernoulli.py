"""Bernoulli(probs= or logits=): a coin per element, 1 with probability probs."""

from __future__ import annotations

import numpy as np

from chainrule.distributions import constraints
from chainrule.distributions.distribution import (
    Distribution,
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)


class Bernoulli(Distribution):
    """P(x = 1) = probs = sigmoid(logits); give exactly one of the two.

    log_prob(x) = x log sigmoid(logits) + (1 - x) log sigmoid(-logits)
                  (the negative binary cross-entropy with logits, stable for large |logits|)
    entropy     = -(p log sigmoid(logits) + (1 - p) log sigmoid(-logits)), p = probs
    No rsample: a draw is piecewise constant in probs (use log_prob in a score estimator).
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        scalar = not hasattr(given, "shape")
        super().__init__(() if scalar else param.shape, (), validate_args)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).type_as(self.probs)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        import chainrule as cr

        shape = self._extended_shape(sample_shape)
        with cr.no_grad():
            return cr.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        from chainrule.nn.functional import logsigmoid

        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return value * logsigmoid(logits) + (1 - value) * logsigmoid(-logits)

    def entropy(self):
        from chainrule.nn.functional import logsigmoid

        p = self.probs
        return -(p * logsigmoid(self.logits) + (1 - p) * logsigmoid(-self.logits))

    def enumerate_support(self, expand: bool = True):
        import chainrule as cr

        values = cr.tensor(np.arange(2.0), dtype=self._param.dtype)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
