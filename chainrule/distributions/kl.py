"""kl_divergence(p, q) = E_p[log p(x) - log q(x)], in closed form for registered pairs.

Pairs are looked up by exact type first, then along the classes' method resolution orders
(so a subclass of Normal uses the Normal rule); a pair with no rule raises
NotImplementedError, as torch. `register_kl(P, Q)` adds a rule.
"""

from __future__ import annotations

import math

from chainrule.distributions._linalg import solve_triangular
from chainrule.distributions.bernoulli import Bernoulli
from chainrule.distributions.categorical import Categorical
from chainrule.distributions.independent import Independent, _sum_rightmost
from chainrule.distributions.multivariate_normal import MultivariateNormal, _mahalanobis
from chainrule.distributions.normal import Normal
from chainrule.distributions.uniform import Uniform

_KL_REGISTRY: dict = {}


def register_kl(type_p, type_q):
    """Decorator: `@register_kl(P, Q) def rule(p, q): ...`."""
    def decorator(fn):
        _KL_REGISTRY[type_p, type_q] = fn
        return fn
    return decorator


def _rule(type_p, type_q):
    for p in type_p.__mro__:
        for q in type_q.__mro__:
            if (p, q) in _KL_REGISTRY:
                return _KL_REGISTRY[p, q]
    return None


def kl_divergence(p, q):
    """KL(p || q), batched over the broadcast batch shapes of p and q."""
    fn = _rule(type(p), type(q))
    if fn is None:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p = {type(p).__name__}, q = {type(q).__name__}; "
            f"registered pairs: " + ", ".join(f"({a.__name__}, {b.__name__})"
                                              for a, b in _KL_REGISTRY))
    return fn(p, q)


def _inf_where(t, mask):
    return t.masked_fill(mask, math.inf)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    from chainrule.nn.functional import softplus

    # p log(p/q) and (1-p) log((1-p)/(1-q)), written with logits; 0 log 0 = 0, x log(x/0) = inf
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = _inf_where(t1, q.probs == 0).masked_fill(p.probs == 0, 0.0)
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = _inf_where(t2, q.probs == 1).masked_fill(p.probs == 1, 0.0)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _inf_where(t, (q.probs == 0).expand_as(t)).masked_fill((p.probs == 0).expand_as(t), 0.0)
    return t.sum(-1)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _inf_where(result, (q.low > p.low) | (q.high < p.high))


@register_kl(Normal, Uniform)
def _kl_normal_uniform(p, q):
    import chainrule as cr

    # a normal puts mass outside every interval, where the uniform's density is 0
    return cr.full_like(p.loc, math.inf)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / width).log()
    t2 = width.pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    import chainrule as cr

    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         f"shapes cannot be computed: {p.event_shape} vs {q.event_shape}")
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = q._half_log_det() - p._half_log_det()
    n = p.event_shape[0]
    batch = tuple(cr.broadcast_shapes(lq.shape[:-2], lp.shape[:-2]))
    # trace(Sq^-1 Sp) = |Lq^-1 Lp|_F^2
    m = solve_triangular(lq.expand(batch + (n, n)), lp.expand(batch + (n, n)), upper=False)
    term2 = m.pow(2).sum((-2, -1))
    term3 = _mahalanobis(lq, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for Independent distributions that reinterpret "
            f"different numbers of dims ({p.reinterpreted_batch_ndims} vs "
            f"{q.reinterpreted_batch_ndims})")
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
