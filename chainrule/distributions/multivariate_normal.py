"""MultivariateNormal(loc, covariance_matrix= | precision_matrix= | scale_tril=)."""

from __future__ import annotations

import math

from chainrule.distributions import constraints
from chainrule.distributions._linalg import cholesky, solve_triangular
from chainrule.distributions.distribution import Distribution, lazy_property
from chainrule.tensor import Size


def _precision_to_scale_tril(p):
    """L with L L^T = P^-1, via the Cholesky factor of P with rows and columns reversed."""
    import chainrule as cr

    last_two = (p.ndim - 2, p.ndim - 1)
    lf = cholesky(p.flip(last_two))
    l_inv = lf.flip(last_two).mT
    eye = cr.eye(p.shape[-1], dtype=p.dtype)
    return solve_triangular(l_inv, eye, upper=False)


def _mahalanobis(lower, x):
    """x^T (L L^T)^-1 x = |L^-1 x|^2 over the last dim, with batch dims broadcast."""
    z = solve_triangular(lower, x.unsqueeze(-1), upper=False).squeeze(-1)
    return z.pow(2).sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors; Sigma given as one of covariance, precision or scale_tril.

    Everything works from L = scale_tril (Sigma = L L^T), the Cholesky factor:
    log_prob(x) = -1/2 (n log(2 pi) + |L^-1 (x - loc)|^2) - sum(log diag L)
    entropy     = n/2 (1 + log(2 pi)) + sum(log diag L)
    rsample     = loc + L eps, eps ~ N(0, I)
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        import chainrule as cr

        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        ((name, matrix),) = given.items()
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             f"leading batch dimensions")
        batch = Size(cr.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        self.__dict__[name] = matrix.expand(batch + (-1, -1))
        self.loc = loc.expand(batch + (-1,))
        super().__init__(batch, self.loc.shape[-1:], validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def _full(self, matrix):
        return matrix.expand(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return self._full(lower.matmul(lower.mT))

    @lazy_property
    def precision_matrix(self):
        import chainrule as cr

        eye = cr.eye(self._event_shape[0], dtype=self.loc.dtype)
        l_inv = solve_triangular(self._unbroadcasted_scale_tril, eye, upper=False)
        return self._full(l_inv.mT.matmul(l_inv))

    @property
    def mean(self):
        return self.loc

    mode = mean

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        import chainrule as cr

        eps = cr.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + self._unbroadcasted_scale_tril.matmul(eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self):
        h = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h if not self._batch_shape else h.expand(self._batch_shape)
